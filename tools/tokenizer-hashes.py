#!/usr/bin/env python3
"""Derives the sha256 of the diffusers-format CLIP tokenizer files that models/*.json pin.

No public page gives a sha256 for schmuell/sd-turbo-ort-web@ace89b7d.../tokenizer/{vocab.json,merges.txt}; a public
catalogue (see models/README.md, evidence "CAT1") gives their byte sizes and Blake3 hashes. This script rebuilds both
files from the CLIP vocabulary in ../shared/assets/clip/hf (the same BPE data) in the layout diffusers' save_pretrained
writes, checks the result against the published size AND Blake3, and only then prints the sha256 of those exact bytes.
A match of a 256-bit Blake3 means the bytes are the published file's, so the sha256 is the published file's too.

Usage: python3 tools/tokenizer-hashes.py   (needs `pip install blake3`; not used by npm test)
"""
import hashlib
import json
import os
import sys

import blake3

ASSETS = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'assets', 'clip', 'hf')
PUBLISHED = {  # path: (bytes, blake3) from the pinned catalogue (schmuell @ ace89b7d, skillsafeai sdxs @ b23bf8f4)
    'tokenizer/vocab.json': (1059962, 'c3d996e86b659a4c358aa0a9931bc18e4388a75753495399d874b1c3271511e4'),
    'tokenizer/merges.txt': (524619, '64a704d74f18e52434c694dac7226f4dfa267600c615929126c4795be0d3d8d9'),
}

vocab = json.load(open(os.path.join(ASSETS, 'vocab.json'), encoding='utf-8'))
merge_lines = open(os.path.join(ASSETS, 'merges.txt'), encoding='utf-8').read().rstrip('\n').split('\n')[1:]
built = {
    # transformers' CLIPTokenizer.save_vocabulary: json.dumps(indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    'tokenizer/vocab.json': (json.dumps(vocab, indent=2, sort_keys=True, ensure_ascii=False) + '\n').encode('utf-8'),
    # "#version: 0.2" header, one merge per line, trailing newline
    'tokenizer/merges.txt': ('#version: 0.2\n' + '\n'.join(merge_lines) + '\n').encode('utf-8'),
}
ok = True
for path, data in built.items():
    size, b3 = PUBLISHED[path]
    match = len(data) == size and blake3.blake3(data).hexdigest() == b3
    ok &= match
    print(f'{path}: {len(data)} bytes, blake3 {"matches" if match else "DIFFERS"}, sha256 {hashlib.sha256(data).hexdigest()}')
sys.exit(0 if ok else 1)
