#!/usr/bin/env python3
"""The first 1,023 token ids of a text, as `dcomp eval` reads them back from JSON Lines:
  token_ids.py TOKENIZER.json TEXT OUT.jsonl
(one window of 1,024 with BOS; used by launch/interop.sh and launch/quickstart.sh)."""
import json
import sys

from tokenizers import Tokenizer

ids = Tokenizer.from_file(sys.argv[1]).encode(open(sys.argv[2]).read(), add_special_tokens=False).ids[:1023]
if len(ids) != 1023:
    sys.exit(f"only {len(ids)} tokens in {sys.argv[2]}")
open(sys.argv[3], "w").write(json.dumps({"input_ids": ids}) + "\n")
