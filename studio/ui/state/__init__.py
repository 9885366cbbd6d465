"""View-models: one QObject per tab holding what it shows and does, without widgets."""
