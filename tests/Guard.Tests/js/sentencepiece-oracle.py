#!/usr/bin/env python3
"""Google's SentencePiece (the C++ library, through Debian's python3-sentencepiece) as the third Llama 2 oracle.

Reads what generate-fixtures.mjs wrote into ./generated/ (corpus.json, and llama2-sentencepiece/tokenizer.model: the
Llama 2 vocabulary as a SentencePiece ModelProto) and writes llama2-sentencepiece/oracle.json,
{ package, call, ids }, with SentencePieceProcessor.encode's ids for every corpus string. The model's normalizer spec
(identity, add_dummy_prefix, no removal of extra whitespace, spaces escaped as U+2581) is what Llama 2's own
tokenizer.model has, so SentencePiece prepends the U+2581 dummy prefix itself; BOS and EOS are not added.

Idempotent: returns at once when oracle.stamp matches the fixtures' stamp, this script, the model and the library.
Exit code 3, with a message, when the sentencepiece module cannot be imported by this interpreter.
Usage: python3 sentencepiece-oracle.py [--force]
"""
import hashlib
import json
import os
import sys

try:
    import sentencepiece as spm
except ImportError:
    print(f"the Python module 'sentencepiece' is not available to {sys.executable}: "
          "install the Debian package python3-sentencepiece (apt-get install python3-sentencepiece)", file=sys.stderr)
    sys.exit(3)

here = os.path.dirname(os.path.abspath(__file__))
generated = os.path.join(here, "generated")
model_path = os.path.join(generated, "llama2-sentencepiece", "tokenizer.model")
oracle_path = os.path.join(generated, "llama2-sentencepiece", "oracle.json")
stamp_path = os.path.join(generated, "llama2-sentencepiece", "oracle.stamp")

for required in (os.path.join(generated, "stamp.json"), model_path):
    if not os.path.exists(required):
        print(f"{required} is missing: run node generate-fixtures.mjs first", file=sys.stderr)
        sys.exit(2)

digest = hashlib.sha256()
for path in (os.path.join(generated, "stamp.json"), os.path.abspath(__file__), model_path):
    with open(path, "rb") as f:
        digest.update(f.read())
digest.update(spm.__version__.encode())
stamp = digest.hexdigest()
if "--force" not in sys.argv and os.path.exists(stamp_path) and os.path.exists(oracle_path):
    with open(stamp_path, encoding="utf-8") as f:
        if f.read().strip() == stamp:
            print("oracle.json is up to date")
            sys.exit(0)

with open(os.path.join(generated, "corpus.json"), encoding="utf-8") as f:
    texts = json.load(f)["texts"]

processor = spm.SentencePieceProcessor(model_file=model_path)
ids = processor.encode(texts, out_type=int, add_bos=False, add_eos=False)

tmp = oracle_path + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    json.dump({
        "package": f"sentencepiece {spm.__version__} (C++ library, Python binding)",
        "call": "SentencePieceProcessor(model_file=tokenizer.model).encode(text, out_type=int, add_bos=False, add_eos=False)",
        "ids": ids,
    }, f, separators=(",", ":"))
os.replace(tmp, oracle_path)
with open(stamp_path, "w", encoding="utf-8") as f:
    f.write(stamp)
print(f"encoded {len(texts)} strings with sentencepiece {spm.__version__}")
