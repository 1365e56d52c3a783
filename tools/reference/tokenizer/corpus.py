"""Deterministic mixed-script test corpus for the tokenizer (issue 3): English
prose, code, CJK, Cyrillic, Arabic, emoji with joiners, combining marks,
digits, long whitespace runs, characters new in Unicode 15/16, plus a
hand-written adversarial list. Every string is valid Unicode (no surrogates)."""
import random

WORDS = ("the of and to in is was that for it with as his on be at by had not are but from or have an they which "
         "one you were her all she there would their we him been has when who will more no if out so said what up its "
         "about into than them can only other new some could time these two may then do first any my now such like our "
         "over man me even most made after also did many before must through back years where much your way well down "
         "should because each just those people how too little state good very make world still own see men work long "
         "get here between both life being under never day same another know while last might us great old year off "
         "come since against go came right used take three tokenizer model Llama MobileLLM iPhone McDonald O'Neil").split()
CONTRACTIONS = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'M", "'LL", "'D", "'x", "'"]
PUNCT = list(".,;:!?") + ["...", " -- ", " - ", "—", "–", "“", "”", "‘", "’", "(", ")", "[", "]", "\"", "'", "«", "»"]

CODE = [
    "def {n}(x, y=None):\n    \"\"\"Docstring for {n}.\"\"\"\n    if x is None:\n        return {v}\n    return x * y + {v}\n\n",
    "for (int i = 0; i < {v}; ++i) {{\n\tsum += a[i] * b[i];  // {n}\n}}\n",
    "const {n} = async (req, res) => {{ await fetch(`/api/v1/{n}?id=${{id}}`); res.json({{ok: true, n: {v}}}); }};\n",
    "#include <vector>\nstd::vector<int32_t> {n}(const std::string& s) {{ return {{{v}, 0x{v:X}, 0b1010}}; }}\n",
    "{{\"{n}\": [{v}, {v}.5, -1e-7, null, true], \"path\": \"/usr/local/lib/{n}.so\", \"url\": \"https://example.com/{n}\"}}\n",
    "SELECT {n}, COUNT(*) FROM t WHERE x >= {v} AND y <> 'a''b' GROUP BY 1;\n",
    "    {n} = [i**2 for i in range({v}) if i % 3 == 0]  # list comprehension\r\n",
    "<div class=\"{n}\"><p>{v} &amp; &lt;tag&gt;</p></div>\n",
    "$ ./{n} --flag={v} -x /tmp/a/b/c/ 2>&1 | grep -E '^[a-z]+$' >> log.txt\n",
]

CYRILLIC_WORDS = ("привет мир это тест токенизатора Москва Россия язык программирования данные модель "
                  "ЗАГЛАВНЫЕ Ёлка съешь же ещё этих мягких французских булок да выпей чаю").split()
ARABIC_WORDS = "مرحبا بالعالم هذا اختبار للمحلل اللغوي العربية لغة جميلة كتاب مدرسة".split()
EMOJI = ["😀", "👍🏽", "❤️", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👩🏻‍💻", "🧑‍🤝‍🧑", "🇫🇷", "🇯🇵", "1️⃣", "#️⃣", "🤷‍♀️", "🫠", "🪿", "☕", "✨"]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\n\n", "\u00a0", "\u3000", "\u2028", "\u2029", "\x0b", "\x0c", "\x85",
          "\x1c", "\x1d", "\x1e", "\x1f", "\u200b", "\u2003", "\u202f", "\u205f", "\u1680", " \n ", "\t\t\n"]
NUMBERS = ["0", "42", "1234567", "3.14159", "1,000,000", "-17", "2024-11-24", "10:30", "v1.2.3", "0xFF", "١٢٣٤٥",
           "۱۲۳", "१२३४", "๑๒๓", "１２３", "Ⅻ", "ⅷ", "½", "²³", "①②③", "𝟙𝟚𝟛", "𐒠𐒡"]
# Letters, marks and digits assigned in Unicode 15.0 / 15.1 / 16.0 (tiktoken's
# tables know them; Python 3.11 and PCRE2 10.42 do not).
NEW_RANGES = [(0x11F00, 0x11F59), (0x105C0, 0x105F3), (0x1E5D0, 0x1E5FA), (0x31350, 0x323AF), (0x2EBF0, 0x2EE5D),
              (0x1E4D0, 0x1E4F9), (0x16D40, 0x16D79), (0x11BC0, 0x11BF9), (0x10D40, 0x10D8F), (0x1CCF0, 0x1CCF9)]

ADVERSARIAL = [
    "", " ", "  ", "   ", "\n", "\r", "\r\n", "\n\r", " \n", "\n ", " \n ", "\t", " \t\n", "a", "A", "1", "!", "'",
    "it's", "IT'S", "It'S", "it'ſ", "you're", "YOU'RE", "we've", "I'm", "she'll", "he'd", "'s", "''s", "'''",
    "a's'", "x'll'd", "don't", "don’t", "rock'n'roll", "'twas", "O'Reilly's", "1's", "ǅ'll", "ʰ's",
    "123", "1234", "12345", "1234567890123", "1.5", "1,234.56", "Ⅻ½²", "٣٤٥", "a1b2c3", "A1", "1a",
    "hello world", "hello   world", "hello\tworld", "hello\n\nworld", "   leading", "trailing   ", "trail \n",
    "a \t\n b", "\u00a0\u00a0x", "x\u00a0\u00a0", "\u3000漢字", " \u0301", "\u0301", "\u0301\u0301a", "a\u0301",
    "A\u0301B", "e\u0301\u0302\u0303", "Ǆǅǆ", "ꭰꭱ", "ʰʱʲ", "ΣΑΣ σας", "İstanbul", "ﬁnance", "ß ẞ",
    "a/b/c", "a/b/c\n\n", "//\r\n", " !!!\n\n\n", "...\n/", " ///", "!@#$%^&*()", " - ", "--", "a--b",
    "\x00\x01\x02\x7f", "\u200b\u200d\u200c", "\ufeffBOM", "\ufffd", "\U0010FFFF", "\U000E0001", "\uE000",
    "🏳️‍🌈", "👨🏽‍💻", "👍🏻👍🏿", "🇺🇸🇬🇧", "a👍b", "中文English混合", "日本語のテキスト", "한국어 텍스트",
    "Привет, мир!", "ПРИВЕТ", "مرحبا بالعالم", "שָׁלוֹם", "नमस्ते दुनिया", "สวัสดีครับ", "ᄀᄁᄂ",
    "<|eot|>", "<|begin_of_text|>hi<|eot|>", "<|eot", "eot|>", "<|notatoken|>", "<|<|eot|>|>", "x<|eot|>y",
    "<|header_start|>user<|header_end|>\n\nWho are you?<|eot|>", "<|python_start|>[f(x=1)]<|python_end|>",
    " <|eot|> ", "<<|eot|>>", "<|reserved_special_token_903|>", "<|reserved_special_token_904|>",
    "\x1c\x1d\x1e\x1f", "a\x1cb", "\x85\x85", "x\x85y", "\u2028\u2029", "\u180e", "\x0b\x0c",
    " " * 100, "\n" * 50, " \n" * 30, "a" * 200, "!" * 200, "😀" * 60, "1" * 100,
]


def rand_word(rng):
    w = rng.choice(WORDS)
    r = rng.random()
    if r < 0.08:
        w = w.capitalize()
    elif r < 0.1:
        w = w.upper()
    if rng.random() < 0.05:
        w += rng.choice(CONTRACTIONS)
    return w


def prose(rng, n_words):
    out = []
    for i in range(n_words):
        w = rand_word(rng)
        if i == 0 or rng.random() < 0.07:
            w = w.capitalize()
        out.append(w)
        if rng.random() < 0.12:
            out.append(rng.choice(PUNCT))
        if rng.random() < 0.03:
            out.append(rng.choice(NUMBERS))
        if rng.random() < 0.02:
            out.append("\n\n" if rng.random() < 0.5 else "\n")
    return " ".join(out)


def code(rng, n):
    return "".join(rng.choice(CODE).format(n=rng.choice(WORDS) + str(rng.randint(0, 99)), v=rng.randint(0, 99999))
                   for _ in range(n))


def chars(rng, ranges, n, sep_prob=0.15, seps=(" ", "，", "。", "\n", "、")):
    out = []
    for _ in range(n):
        a, b = rng.choice(ranges)
        out.append(chr(rng.randint(a, b)))
        if rng.random() < sep_prob:
            out.append(rng.choice(seps))
    return "".join(out)


def cjk(rng, n):
    return chars(rng, [(0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF), (0xAC00, 0xD7A3), (0x3400, 0x4DBF),
                       (0xFF01, 0xFF5E), (0x20000, 0x2A6DF)], n)


def words_text(rng, words, n, marks=()):
    out = []
    for _ in range(n):
        w = rng.choice(words)
        if marks and rng.random() < 0.3:
            w = "".join(c + (rng.choice(marks) if rng.random() < 0.4 else "") for c in w)
        out.append(w)
        if rng.random() < 0.1:
            out.append(rng.choice(PUNCT + NUMBERS))
    return " ".join(out)


def emoji(rng, n):
    return "".join(rng.choice(EMOJI) + (rng.choice([" ", "", "\n", "a", "!"]) if rng.random() < 0.5 else "")
                   for _ in range(n))


def combining(rng, n):
    out = []
    for _ in range(n):
        base = rng.choice("aeiouAEIOUnNcCxyz ")
        out.append(base + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(0, 4))))
        if rng.random() < 0.2:
            out.append(rng.choice([" ", "\n", "1", "'s"]))
    return "".join(out) + chars(rng, [(0x900, 0x97F), (0xE00, 0xE7F), (0x591, 0x5F4)], n // 2, seps=(" ",))


def whitespace(rng, n):
    return "".join(rng.choice(SPACES) * rng.randint(1, 5) + (rng.choice(WORDS) if rng.random() < 0.5 else
                   rng.choice(NUMBERS + PUNCT)) for _ in range(n))


def random_unicode(rng, n):
    out = []
    while len(out) < n:
        r = rng.random()
        if r < 0.3:
            a, b = rng.choice(NEW_RANGES)
            cp = rng.randint(a, b)
        elif r < 0.8:
            cp = rng.randint(0x80, 0x2FFFF)
        else:
            cp = rng.randint(0, 0x10FFFF)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        out.append(chr(cp))
        if rng.random() < 0.1:
            out.append(rng.choice(SPACES + ["'s", "A", "a", "1"]))
    return "".join(out)


def long_runs(rng):
    """Documents that exercise the 25,000 / 400,000 rules."""
    return [
        " " * 30000 + "x",
        "a" * 26000 + " b",
        "x" + "\n" * 25001 + "y" + " " * 24999 + "z",
        "!" * 50001,
        "中" * 27000,
        " \t" * 20000 + "end",
        (prose(rng, 20000) + " " * 3000) * 2 + "\u00a0" * 26000,
        "\x1c" * 26000 + "a",  # isspace but not \s: the run rule and the regex disagree
        "word " * 90000 + "tail",  # > 400,000 characters, cut mid-stream
    ]


GENERATORS = [
    (0.40, lambda rng: prose(rng, rng.randint(50, 800))),
    (0.15, lambda rng: code(rng, rng.randint(2, 30))),
    (0.10, lambda rng: cjk(rng, rng.randint(50, 800))),
    (0.07, lambda rng: words_text(rng, CYRILLIC_WORDS, rng.randint(20, 300))),
    (0.07, lambda rng: words_text(rng, ARABIC_WORDS, rng.randint(20, 300),
                                  marks=[chr(c) for c in range(0x64B, 0x653)])),
    (0.05, lambda rng: emoji(rng, rng.randint(10, 200))),
    (0.05, lambda rng: combining(rng, rng.randint(20, 300))),
    (0.06, lambda rng: whitespace(rng, rng.randint(10, 200))),
    (0.05, lambda rng: random_unicode(rng, rng.randint(20, 500))),
]


def documents(target_bytes, seed=20251124):
    rng = random.Random(seed)
    docs = list(ADVERSARIAL)
    if target_bytes >= 1_000_000:
        docs += long_runs(rng)
    else:
        docs += [" " * 26000 + "x", "b" * 25001, "\x1c" * 25001 + "a"]
    size = sum(len(d.encode()) for d in docs)
    weights = [w for w, _ in GENERATORS]
    while size < target_bytes:
        parts = [rng.choices(GENERATORS, weights)[0][1](rng) for _ in range(rng.randint(1, 3))]
        d = rng.choice(["", " ", "\n"]).join(parts)
        docs.append(d)
        size += len(d.encode())
    return docs
