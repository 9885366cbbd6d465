"""Prompts as A1111 reads them: attention weights, prompts past 77 tokens, textual inversions.

* ``(word)`` multiplies the attention of its words by 1.1, ``[word]`` divides it by 1.1,
  ``(word:1.3)`` sets the factor; brackets nest, ``\\(`` writes a bracket, and ``BREAK`` starts a
  new chunk (A1111's ``parse_prompt_attention``).
* Past 75 tokens the prompt is cut into chunks of 75 (each framed by start/end tokens to 77, a cut
  moved back to the last comma within 20 tokens), each chunk encoded on its own and the results
  joined, as A1111's ``FrozenCLIPEmbedderWithCustomWords`` does; weights scale the encoded tokens and
  the mean is restored. A shorter negative prompt is padded with chunks of the empty prompt.
* Clip skip ``n`` (A1111's count, 1 = the last layer) reads the text encoder's n-th layer from the end.
* Textual-inversion files (``.safetensors``: A1111 ``emb_params``/``string_to_param``, SDXL
  ``clip_l``/``clip_g``, or diffusers' one-tensor layout) are called by their file name in a prompt.

The ``plain`` prompt syntax leaves all this to the pipeline (truncated at 77 tokens), as studio
versions before this one did: their recipes reproduce unchanged.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from studio.errors import InputError, ModelError, NotFound

log = logging.getLogger(__name__)

CHUNK_LENGTH = 75
COMMA_BACKTRACK = 20
ROUND_MULTIPLIER = 1.1
SQUARE_MULTIPLIER = 1 / 1.1

_ATTENTION = re.compile(r"""
\\\(|\\\)|\\\[|\\]|\\\\|\\|\(|\[|:\s*([+-]?[.\d]+)\s*\)|\)|]|[^\\()\[\]:]+|:
""", re.X)
_BREAK = re.compile(r"\s*\bBREAK\b\s*", re.S)


def parse_attention(text: str) -> list[tuple[str, float]]:
    """``text`` as (piece, weight) pairs; ``("BREAK", -1)`` marks a forced chunk break.

    >>> parse_attention("a (red:1.5) fox [in] \\\\(snow\\\\)")
    [('a ', 1.0), ('red', 1.5), (' fox ', 1.0), ('in', 0.9090909090909091), (' (snow)', 1.0)]
    """
    res: list[list[Any]] = []
    round_brackets: list[int] = []
    square_brackets: list[int] = []

    def multiply_range(start: int, multiplier: float) -> None:
        for position in range(start, len(res)):
            res[position][1] *= multiplier

    for match in _ATTENTION.finditer(text):
        piece, weight = match.group(0), match.group(1)
        if piece.startswith("\\"):
            res.append([piece[1:], 1.0])
        elif piece == "(":
            round_brackets.append(len(res))
        elif piece == "[":
            square_brackets.append(len(res))
        elif weight is not None and round_brackets:
            try:
                factor = float(weight)
            except ValueError:
                factor = 1.0
            multiply_range(round_brackets.pop(), factor)
        elif piece == ")" and round_brackets:
            multiply_range(round_brackets.pop(), ROUND_MULTIPLIER)
        elif piece == "]" and square_brackets:
            multiply_range(square_brackets.pop(), SQUARE_MULTIPLIER)
        else:
            for index, part in enumerate(_BREAK.split(piece)):
                if index > 0:
                    res.append(["BREAK", -1])
                res.append([part, 1.0])
    for position in round_brackets:
        multiply_range(position, ROUND_MULTIPLIER)
    for position in square_brackets:
        multiply_range(position, SQUARE_MULTIPLIER)
    if not res:
        res = [["", 1.0]]
    index = 0
    while index + 1 < len(res):
        if res[index][1] == res[index + 1][1]:
            res[index][0] += res[index + 1][0]
            res.pop(index + 1)
        else:
            index += 1
    return [(str(piece), float(weight)) for piece, weight in res]


@dataclass(frozen=True)
class PromptChunk:
    """77 token ids (start, 75, end) and the attention weight of each."""

    tokens: tuple[int, ...]
    weights: tuple[float, ...]


def chunk_prompt(tokenizer: Any, text: str, *, convert: Callable[[str], str] | None = None
                 ) -> tuple[list[PromptChunk], int]:
    """The prompt's chunks and its token count (A1111's ``tokenize_line``)."""
    parsed = parse_attention(text)
    pieces = [convert(piece) if convert is not None and weight != -1 else piece for piece, weight in parsed]
    ids = tokenizer(pieces, truncation=False, add_special_tokens=False)["input_ids"] if pieces else []
    start, end = tokenizer.bos_token_id, tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else end
    comma = tokenizer.get_vocab().get(",</w>")
    chunks: list[PromptChunk] = []
    tokens: list[int] = []
    weights: list[float] = []
    count = 0
    last_comma = -1

    def next_chunk(is_last: bool = False) -> None:
        nonlocal tokens, weights, count, last_comma
        count += len(tokens) if is_last else CHUNK_LENGTH
        missing = CHUNK_LENGTH - len(tokens)
        if missing > 0:
            tokens += [pad] * missing
            weights += [1.0] * missing
        chunks.append(PromptChunk(tuple([start, *tokens, end]), tuple([1.0, *weights, 1.0])))
        tokens, weights, last_comma = [], [], -1

    for piece_ids, (piece, weight) in zip(ids, parsed):
        if piece == "BREAK" and weight == -1:
            next_chunk()
            continue
        for token in piece_ids:
            if token == comma:
                last_comma = len(tokens)
            elif len(tokens) == CHUNK_LENGTH and last_comma != -1 and len(tokens) - last_comma <= COMMA_BACKTRACK:
                cut = last_comma + 1
                moved_tokens, moved_weights = tokens[cut:], weights[cut:]
                tokens, weights = tokens[:cut], weights[:cut]
                next_chunk()
                tokens, weights = moved_tokens, moved_weights
            if len(tokens) == CHUNK_LENGTH:
                next_chunk()
            tokens.append(token)
            weights.append(weight)
    if tokens or not chunks:
        next_chunk(is_last=True)
    return chunks, count


@dataclass(frozen=True)
class TokenCount:
    """What the GUI shows beside a prompt: ``tokens`` used of ``limit`` (75 per chunk, A1111's "12/75")."""

    tokens: int
    chunks: int

    @property
    def limit(self) -> int:
        return max(1, self.chunks) * CHUNK_LENGTH


def count_tokens(tokenizer: Any, text: str, syntax: str = "a1111") -> TokenCount:
    """How many tokens ``text`` takes, as the engine will read it (an embedding counts its vectors)."""
    if syntax == "plain":
        n = len(tokenizer(text, truncation=False, add_special_tokens=False)["input_ids"])
        return TokenCount(n, 1)
    from diffusers.loaders import TextualInversionLoaderMixin

    loader = TextualInversionLoaderMixin()
    chunks, count = chunk_prompt(tokenizer, text, convert=lambda piece: loader.maybe_convert_prompt(piece, tokenizer))
    return TokenCount(count, len(chunks))


def count_prompt_tokens(model_path: Path, text: str, syntax: str = "a1111") -> TokenCount:
    """The token counter beside a prompt: ``text`` counted with the tokenizer of the model at
    ``model_path`` (loaded once and kept; no weights are read)."""
    return count_tokens(_cached_tokenizer(str(Path(model_path))), text, syntax)


@functools.lru_cache(maxsize=4)
def _cached_tokenizer(model_path: str) -> Any:
    return tokenizer_for(Path(model_path))


def tokenizer_for(model_path: Path) -> Any:
    """The tokenizer of the model at ``model_path`` without loading any weights (a diffusers folder's
    own; the CLIP vocabulary every SD family shares for a single file)."""
    # The module itself, not transformers' lazy top-level name: a background job that imports the
    # pipeline at the same moment can leave that name half-made ("cannot import name 'CLIPTokenizer'"),
    # whereas a module import waits for the other thread under Python's per-module import lock.
    from transformers.models.clip.tokenization_clip import CLIPTokenizer

    from studio.assets import asset_path

    folder = Path(model_path) / "tokenizer"
    if (folder / "vocab.json").is_file():
        return CLIPTokenizer.from_pretrained(str(folder), local_files_only=True)
    bundled = asset_path("models", "clip-tokenizer")
    return CLIPTokenizer(str(bundled / "vocab.json"), str(bundled / "merges.txt"), model_max_length=77,
                         pad_token="<|endoftext|>")


# -- encoding ------------------------------------------------------------------------------

def _encode_chunks(chunks: Sequence[PromptChunk], text_encoder: Any, clip_skip: int, *, sdxl: bool,
                   device: Any) -> tuple[Any, Any]:
    """Hidden states (1, 77*n, dim) of the chunks with weights applied, and the pooled output of the
    first chunk (for SDXL's second encoder).

    SD 1.x/2.x read the last layer after the final norm, or with clip skip n the n-th layer from the
    end through the final norm (as A1111 and diffusers do); SDXL reads the layer before the last, or
    n layers before that, without the norm (diffusers' ``clip_skip`` counts one less than A1111's).
    """
    import torch

    outputs = []
    pooled = None
    for chunk in chunks:
        ids = torch.tensor([chunk.tokens], device=device)
        out = text_encoder(ids, output_hidden_states=True)
        if sdxl:
            z = out.hidden_states[-(clip_skip + 1)]
        elif clip_skip == 1:
            z = out[0]
        else:
            model = getattr(text_encoder, "text_model", text_encoder)  # transformers 4 nests it, 5 does not
            z = model.final_layer_norm(out.hidden_states[-clip_skip])
        if any(weight != 1.0 for weight in chunk.weights):
            weights = torch.tensor(chunk.weights, dtype=z.dtype, device=z.device)
            original_mean = z.mean()
            z = z * weights.reshape(1, -1, 1)
            new_mean = z.mean()
            if new_mean != 0:  # a layer norm without bias can give a mean of exactly 0
                z = z * (original_mean / new_mean)
        outputs.append(z)
        if pooled is None:
            pooled = out[0] if getattr(out, "text_embeds", None) is None else out.text_embeds
    return torch.cat(outputs, dim=1), pooled


def _pad_to(embeds: Any, empty: Any, chunks: int) -> Any:
    import torch

    missing = chunks - embeds.shape[1] // 77
    return torch.cat([embeds, *([empty] * missing)], dim=1) if missing > 0 else embeds


def encode_for_pipeline(pipe: Any, prompt: str, negative: str, *, clip_skip: int, batch: int,
                        guidance: float) -> dict[str, Any]:
    """``prompt_embeds`` (and the negative and pooled ones) for ``pipe``'s call, A1111-style."""
    import torch

    from diffusers.loaders import TextualInversionLoaderMixin

    device = pipe._execution_device
    loader = TextualInversionLoaderMixin()  # multi-vector tokens "name" -> "name name_1 ..."; any pipeline
    convert = {id(tok): (lambda text, t=tok: loader.maybe_convert_prompt(text, t))
               for tok in (getattr(pipe, "tokenizer", None), getattr(pipe, "tokenizer_2", None)) if tok is not None}
    sdxl = getattr(pipe, "text_encoder_2", None) is not None
    encoders = [(pipe.tokenizer, pipe.text_encoder)] + ([(pipe.tokenizer_2, pipe.text_encoder_2)] if sdxl else [])

    def encode(text: str) -> tuple[Any, Any, int]:
        parts, pooled, n_chunks = [], None, 0
        for tokenizer, encoder in encoders:
            chunks, _ = chunk_prompt(tokenizer, text, convert=convert[id(tokenizer)])
            z, pool = _encode_chunks(chunks, encoder, clip_skip, sdxl=sdxl, device=device)
            parts.append(z)
            pooled, n_chunks = pool, len(chunks)
        return torch.cat(parts, dim=-1), pooled, n_chunks

    with torch.no_grad():
        positive, pooled, n_pos = encode(prompt)
        negative_embeds, negative_pooled, n_neg = encode(negative)
        empty, _, _ = encode("")
        chunks = max(n_pos, n_neg)
        positive, negative_embeds = _pad_to(positive, empty, chunks), _pad_to(negative_embeds, empty, chunks)
        if sdxl and not negative and getattr(pipe.config, "force_zeros_for_empty_prompt", False):
            negative_embeds = torch.zeros_like(negative_embeds)
            negative_pooled = torch.zeros_like(negative_pooled)
    dtype = pipe.text_encoder.dtype if not sdxl else pipe.text_encoder_2.dtype
    kwargs: dict[str, Any] = {
        "prompt_embeds": positive.to(dtype).repeat(batch, 1, 1),
        "negative_prompt_embeds": negative_embeds.to(dtype).repeat(batch, 1, 1),
    }
    if sdxl:
        kwargs["pooled_prompt_embeds"] = pooled.to(dtype).repeat(batch, 1)
        kwargs["negative_pooled_prompt_embeds"] = negative_pooled.to(dtype).repeat(batch, 1)
    return kwargs


# -- textual inversion -----------------------------------------------------------------------

def check_embedding(path: Path) -> None:
    if not path.is_file():
        raise NotFound(f"The embedding file {path} does not exist.", hint="Check the path, or remove it.")
    if path.suffix.lower() != ".safetensors":
        raise InputError(f"{path.name} is not a .safetensors embedding.",
                         hint="Only .safetensors embeddings are loaded; pickle files (.pt, .bin) can run code.")


def embedding_token(path: Path) -> str:
    """The word that calls an embedding in a prompt: its file name without the extension."""
    return Path(path).stem


class EmbeddingState:
    """The textual inversions loaded into one pipeline's tokenizers and text encoders."""

    def __init__(self) -> None:
        self._files: tuple[tuple[str, int, int], ...] = ()
        self._records: tuple[tuple[str, str], ...] = ()

    def apply(self, pipe: Any, paths: Sequence[Path], sha256: Callable[[Path], str]) -> tuple[tuple[str, str], ...]:
        """Make ``pipe`` know exactly ``paths``; their (file name, sha256) for the recipe."""
        keys = []
        for path in paths:
            stat = Path(path).stat()
            keys.append((str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns))
        files = tuple(keys)
        if files == self._files:
            return self._records
        if self._files:
            pipe.unload_textual_inversion()
        self._files, self._records = (), ()
        for path in paths:
            try:
                _load_embedding(pipe, Path(path))
            except (ValueError, KeyError, OSError, RuntimeError) as exc:
                pipe.unload_textual_inversion()
                raise ModelError(f"Could not load the embedding {Path(path).name}: {exc}",
                                 hint="It may be for another model family (SD 1.x vs SDXL) or damaged.") from exc
        self._files = files
        self._records = tuple((Path(path).name, sha256(Path(path))) for path in paths)
        return self._records

    def reset(self) -> None:
        self._files, self._records = (), ()


def _load_embedding(pipe: Any, path: Path) -> None:
    from safetensors.torch import load_file

    state = load_file(str(path))
    token = embedding_token(path)
    if getattr(pipe, "text_encoder_2", None) is not None:
        if "clip_l" not in state or "clip_g" not in state:
            raise ValueError("an SDXL embedding holds clip_l and clip_g tensors; this file has "
                             f"{', '.join(sorted(state))[:80]}")
        pipe.load_textual_inversion(state["clip_l"], token=token, text_encoder=pipe.text_encoder,
                                    tokenizer=pipe.tokenizer)
        pipe.load_textual_inversion(state["clip_g"], token=token, text_encoder=pipe.text_encoder_2,
                                    tokenizer=pipe.tokenizer_2)
        return
    if "clip_l" in state:
        raise ValueError("it is an SDXL embedding (clip_l and clip_g)")
    pipe.load_textual_inversion(state, token=token)
