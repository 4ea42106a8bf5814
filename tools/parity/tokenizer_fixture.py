"""Tokenizer parity prompts (imported by make_fixtures.py): ≥ 150 prompts of our own and the ids transformers gives.

Two references are written for each prompt:
- `hf`: transformers' `CLIPTokenizer` as the pinned diffusers loads it (transformers 5: the `tokenizers` backend —
  NFC, whitespace collapse, lowercase; ftfy is not consulted), padded to 77 with EOS (SD 1.x);
- `ftfy`: the classic CLIPTokenizer path that transformers ≤ 4 took when ftfy is installed (its documented setup):
  `whitespace_clean(ftfy.fix_text(text)).lower()`, CLIP's regex, byte-level BPE — content ids only (no BOS/EOS).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import ftfy
import regex

BASE = [
    # plain / punctuation / contractions
    'a red cat on a blue sofa', 'A RED CAT', "don't stop, it's fine", "I'M HERE, we'll see, they'd go", "O'Reilly's book",
    'hello,world!!! ...', 'price: $42.50 (approx.)', 'rgb(255, 0, 128) #ff0080', 'e-mail: a.b@c.de', '1234567890',
    'snake_case and kebab-case', 'path/to/file.png', 'C++ & C#', '50% off — now', 'x^2 + y^2 = z^2',
    # CJK and other scripts
    '一只猫坐在沙发上', '東京の夜景、ネオン', '한국어 프롬프트 테스트', 'a cat 猫 in 東京 at night', '中文，标点。符号！',
    'ｶﾀｶﾅ half-width', 'ＡＢＣ１２３ full-width', '　ideographic　space　', 'مرحبا بالعالم', 'שלום עולם',
    'สวัสดีครับ', 'नमस्ते दुनिया', 'Привет, мир', 'Ελληνικά ΣΊΣΥΦΟΣ', 'İstanbul STRASSE ß ǅemal',
    # control characters and invisible marks
    'a\x00cat', 'tab\tseparated\tvalues', 'bell\x07ring', '\x1b[31mred text\x1b[0m', 'zero\u200bwidth\u200bspace',
    'soft\u00adhyphen', '\ufeffbyte order mark', 'a\x7fdelete', 'c1\x85next line', 'line\u2028separator',
    'para\u2029graph', 'a\x1cfile\x1dgroup\x1erecord\x1funit', 'mongolian\u180evowel', 'word\u2060joiner', 'rtl\u200fmark\u200e',
    # HTML entities
    'fish &amp; chips', '&lt;b&gt;bold&lt;/b&gt;', 'caf&eacute; au lait', '&#233;t&#233;', '&#x1F600; smile',
    'non&nbsp;breaking', '<b>tag</b> &amp; entity', '&amp;amp; double', 'AT&T', '&unknown; entity',
    # combining accents and normalisation
    'cafe\u0301', 'man\u0303ana', 'A\u030angstr\u00f6m', 'e\u0301\u0301 double', 'z\u0336a\u0334l\u0337g\u0335o',
    'ﬁne ﬂower ligatures', '“curly” ‘quotes’', 'cafÃ© mojibake', 'â€œquotedâ€\x9d', 'Ⅻ roman ⅻ', '½ cup ¾', '①②③', 'x²',
    # whitespace
    'a\u00a0b', 'a\u2003em\u2002en', 'a\u200aha\u2009thin', '   leading', 'trailing   ', 'a\r\nb\rc\nd', 'a\u000bv\u000cf',
    'a   many    spaces', '\t\n', '',
    # emoji
    '🐱', '👩\u200d💻 coder', '🇯🇵 flag', '❤️ heart', '🏳️\u200d🌈', 'thumbs 👍🏽 up', 'mixed🐶text🐱', '✨sparkles✨', '☕', '👨‍👩‍👧‍👦 family',
    # prompt-weighting and tool syntax
    '(masterpiece:1.2), best quality', '[[blurry]]', '((best quality)), ((ultra detailed))', 'a {red|blue} cat',
    'cat::2 dog::-1', 'embedding:easynegative', '<lora:add_detail:0.7> portrait', 'a cat AND a dog', 'sky BREAK sea',
    '(red:1.5) [blue:green:0.5]', '\\(escaped\\) parens', 'score_9, score_8_up',
    # special tokens in text
    '<|endoftext|>', 'a <|startoftext|> b <|endoftext|> c', '<|ENDOFTEXT|> upper',
]

LONG = ('a highly detailed isometric illustration of a cosy wooden cabin in a snowy pine forest at golden hour, warm '
        'light spilling from the windows, smoke curling from the chimney, a red sled leaning on the porch, footprints '
        'in fresh snow, distant mountains under a pastel sky, soft volumetric fog, tiny birds, (masterpiece:1.2), '
        '[best quality], trending on artstation, 8k, octane render, ultra sharp focus')


def prompts() -> list[str]:
    out = list(BASE)
    out += [f'a photo of {p}' for p in BASE[:60]]
    out += [f'{p}, 8k, детализация, 高清' for p in BASE[60:110]]
    out += [LONG, LONG + ' ' + LONG, ' '.join(['cat'] * 80), '🐱' * 40, '東京' * 50, 'supercalifragilisticexpialidocious ' * 10]
    return out


PAT = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", regex.IGNORECASE)


def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class SlowClip:
    """transformers ≤ 4 CLIPTokenizer._tokenize with ftfy (and CLIP's simple_tokenizer BPE)."""

    def __init__(self, vocab: Path, merges: Path):
        self.encoder = json.loads(vocab.read_text(encoding='utf-8'))
        lines = merges.read_text(encoding='utf-8').split('\n')[1:49152 - 256 - 2 + 1]
        self.ranks = {tuple(m.split()): i for i, m in enumerate(lines)}
        self.byte_encoder = bytes_to_unicode()

    @lru_cache(maxsize=None)
    def bpe(self, token: str) -> tuple[str, ...]:
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float('inf')))
            if best not in self.ranks:
                break
            first, second = best
            new, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new.extend(word[i:])
                    break
                new.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new.append(first + second)
                    i += 2
                else:
                    new.append(word[i])
                    i += 1
            word = tuple(new)
        return word

    def ids(self, text: str) -> list[int]:
        text = regex.sub(r'\s+', ' ', ftfy.fix_text(text)).strip().lower()
        out: list[int] = []
        for tok in PAT.findall(text):
            if tok in ('<|startoftext|>', '<|endoftext|>'):
                out.append(self.encoder[tok])
                continue
            mapped = ''.join(self.byte_encoder[b] for b in tok.encode('utf-8'))
            out.extend(self.encoder[t] for t in self.bpe(mapped))
        return out


def tokenizer_fixture(tok_eos, vocab: Path, merges: Path) -> dict:
    slow = SlowClip(vocab, merges)
    rows = []
    for p in prompts():
        rows.append({'text': p, 'hf': tok_eos(p, padding='max_length', max_length=77, truncation=True).input_ids, 'ftfy': slow.ids(p)})
    return {'generatedBy': 'tools/parity/tokenizer_fixture.py', 'ftfy': ftfy.__version__, 'prompts': rows}
