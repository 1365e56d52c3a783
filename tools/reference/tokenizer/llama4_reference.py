"""The reference Llama-4 tokenizer, built from PyPI packages only (never from
our output): a tiktoken Encoding over the shared ranks, the spec §5 regex and
the 2,048 special tokens of special_tokens.tsv, with Meta's long-input rules
(llama-models tokenizer.py: 400,000-character slices, 25,000-character runs of
whitespace / non-whitespace); and a Hugging Face `tokenizers` tokenizer.json of
the same vocabulary."""
import base64
import json
import pathlib

PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
           r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
           r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
MAX_ENCODE_CHARS = 400_000
MAX_RUN_CHARS = 25_000


def load_ranks(model_path):
    ranks = {}
    for line in pathlib.Path(model_path).read_bytes().splitlines():
        if line:
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def load_special(tsv_path):
    special = {}
    for line in pathlib.Path(tsv_path).read_text(encoding="utf-8").splitlines():
        i, text = line.split("\t")
        special[text] = int(i)
    return special


def tiktoken_encoding(model_path, tsv_path):
    import tiktoken
    return tiktoken.Encoding("llama4", pat_str=PATTERN, mergeable_ranks=load_ranks(model_path),
                             special_tokens=load_special(tsv_path))


def split_runs(s):
    """tokenizer.py's _split_whitespaces_or_nonwhitespaces."""
    run = 0
    is_space = s[0].isspace() if s else False
    start = 0
    for i in range(len(s)):
        now = s[i].isspace()
        if is_space ^ now:
            run = 1
            is_space = now
        else:
            run += 1
            if run > MAX_RUN_CHARS:
                yield s[start:i]
                start = i
                run = 1
    yield s[start:]


def chunks(text):
    for i in range(0, len(text), MAX_ENCODE_CHARS):
        yield from split_runs(text[i:i + MAX_ENCODE_CHARS])


def encode(encode_chunk, text, bos_id=None):
    ids = [] if bos_id is None else [bos_id]
    for c in chunks(text):
        ids.extend(encode_chunk(c))
    return ids


def build_hf_tokenizer_json(model_path, tsv_path, out_path):
    """tokenizer.json as transformers' tiktoken conversion writes it: byte-level
    vocab, merges ordered by the rank of the merged token, then by the ranks of
    the two parts; the split regex, then ByteLevel without its own regex."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, AddedToken
    from tokenizers.models import BPE

    ranks = load_ranks(model_path)
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    byte_char = dict(zip(bs, map(chr, cs)))

    def text(b):
        return "".join(byte_char[x] for x in b)

    vocab = {text(t): r for t, r in ranks.items()}
    merges = []
    for t, r in ranks.items():
        local = [(t[:k], t[k:], r) for k in range(1, len(t)) if t[:k] in ranks and t[k:] in ranks]
        local.sort(key=lambda m: (ranks[m[0]], ranks[m[1]]))
        merges.extend(local)
    merges.sort(key=lambda m: m[2])
    merges = [(text(a), text(b)) for a, b, _ in merges]

    tok = Tokenizer(BPE(vocab, merges, ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    special = load_special(tsv_path)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in sorted(special, key=special.get)])
    tok.save(str(out_path))
    return tok
