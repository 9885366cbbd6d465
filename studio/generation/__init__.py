"""Local diffusion: models, devices, the engine that runs pipelines, and the demo model.

torch and diffusers are imported lazily inside functions, never at package import, so that the
window can open before they load.
"""
