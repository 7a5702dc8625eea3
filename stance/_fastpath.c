/* The single-quote scorer of a TF-IDF + logistic-regression model, in C.
 *
 * stance.model's pure-Python fast path spends most of its time building n-gram strings and
 * looking each one up in a dict. This does the same arithmetic without creating a Python object
 * per n-gram: it splits the lower-cased (and, as configured, accent-stripped) text into
 * tokens as one of two token patterns does, "word" being what Python's re module calls \w:
 *   TOKENS_SKLEARN  (?u)\b\w\w+\b               maximal runs of two or more word characters;
 *   TOKENS_APOSTROPHE (?u)\b\w+(?:['’]\w+)?\b   runs of one or more, with one inner apostrophe
 *                                                  ("don't", "Ukraine’s") kept inside the token;
 * hashes each 1- to 3-gram straight from the UTF-8 bytes, finds its feature in an open-addressing
 * table, and adds up tf-idf times coefficient per class.
 *
 * It is optional: when it cannot be built (no compiler), stance.model uses the Python path, which
 * gives the same probabilities (tests/test_model.py compares the two).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLASS_ROWS 64
#define STACK_TOKENS 512

enum { TF_RAW = 0, TF_SUBLINEAR = 1, TF_BINARY = 2 };
enum { NORM_NONE = 0, NORM_L1 = 1, NORM_L2 = 2 };
enum { TOKENS_SKLEARN = 0, TOKENS_APOSTROPHE = 1 };
/* scikit-learn's strip_accents: None, "unicode" (NFKD, then combining marks dropped), "ascii"
 * (NFKD, then everything that is not ASCII dropped). Both leave ASCII text as it is. */
enum { STRIP_NONE = 0, STRIP_UNICODE = 1, STRIP_ASCII = 2 };

/* One slot of the open-addressing table: all a lookup needs but the term's bytes, in 16 bytes,
 * so that a probe costs one cache line (the table is megabytes; a request touches ~50 slots). */
typedef struct {
    uint64_t hash;
    uint32_t offset; /* the term's bytes: arena + offset, up to its NUL */
    int32_t term;    /* the feature index, -1 for an empty slot */
} Slot;

typedef struct {
    PyObject_HEAD
    Py_ssize_t n_features;
    int n_rows;           /* rows of coef_: the number of classes, or 1 for a binary model */
    int high;             /* the longest n-gram, 1 to 3 */
    int lowercase;
    int token_mode;
    int strip_mode;
    PyObject *normalize;  /* unicodedata.normalize, for STRIP_UNICODE and STRIP_ASCII */
    PyObject *nfkd;       /* the str "NFKD" */
    Py_buffer combining;  /* bit c set when unicodedata.combining(chr(c)) (STRIP_UNICODE) */
    int tf_mode;
    int norm_mode;
    double intercept[MAX_CLASS_ROWS];
    double *weights;      /* per feature: idf, then idf * coef for each row */
    char *arena;          /* every term's UTF-8 bytes, each ended by a NUL */
    Slot *slots;
    size_t mask;
} Scorer;

typedef struct {
    Py_ssize_t start, end; /* byte offsets in the UTF-8 text */
} Token;

/* FNV-1a, fed piece by piece so that "a b" hashes without being built. */
#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static inline uint64_t fnv_feed(uint64_t h, const char *bytes, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (unsigned char)bytes[i];
        h *= FNV_PRIME;
    }
    return h;
}

static inline uint64_t fnv_space(uint64_t h)
{
    h ^= (unsigned char)' ';
    return h * FNV_PRIME;
}

/* The final mix keeps nearby hashes from crowding the low bits that pick the slot. */
static inline size_t slot_of(uint64_t h, size_t mask)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & mask;
}

static void Scorer_dealloc(Scorer *self)
{
    Py_XDECREF(self->normalize);
    Py_XDECREF(self->nfkd);
    if (self->combining.obj != NULL)
        PyBuffer_Release(&self->combining);
    PyMem_Free(self->weights);
    PyMem_Free(self->arena);
    PyMem_Free(self->slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int insert_term(Scorer *self, int32_t index, uint32_t offset, Py_ssize_t len)
{
    const char *key = self->arena + offset;
    uint64_t h = fnv_feed(FNV_OFFSET, key, len);
    size_t slot = slot_of(h, self->mask);
    while (self->slots[slot].term >= 0) {
        if (self->slots[slot].hash == h && strcmp(self->arena + self->slots[slot].offset, key) == 0) {
            PyErr_Format(PyExc_ValueError, "the vocabulary holds a term twice (index %d)", index);
            return -1;
        }
        slot = (slot + 1) & self->mask;
    }
    self->slots[slot].hash = h;
    self->slots[slot].offset = offset;
    self->slots[slot].term = index;
    return 0;
}

/* Scorer(terms, weights, n_rows, intercepts, high, lowercase, strip_mode, combining, normalize,
 *        token_mode, tf_mode, norm_mode)
 * terms: list of str, the term of each feature index; weights: bytes holding float64
 * [n_features][1 + n_rows] (idf, then idf * coef per row); intercepts: list of n_rows floats;
 * combining: a bitmap (bytes) of the combining characters; normalize: unicodedata.normalize. */
static int Scorer_init(Scorer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"terms", "weights", "n_rows", "intercepts", "high", "lowercase",
                             "strip_mode", "combining", "normalize", "token_mode", "tf_mode",
                             "norm_mode", NULL};
    PyObject *terms, *intercepts, *normalize;
    Py_buffer weights, combining;
    int n_rows, high, lowercase, strip_mode, token_mode, tf_mode, norm_mode;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!y*iO!ipiy*Oiii", kwlist, &PyList_Type,
                                     &terms, &weights, &n_rows, &PyList_Type, &intercepts, &high,
                                     &lowercase, &strip_mode, &combining, &normalize,
                                     &token_mode, &tf_mode, &norm_mode))
        return -1;
    int status = -1;
    Py_ssize_t n = PyList_GET_SIZE(terms);
    if (n_rows < 1 || n_rows > MAX_CLASS_ROWS || high < 1 || high > 3 || tf_mode < 0 ||
        tf_mode > 2 || norm_mode < 0 || norm_mode > 2 || token_mode < 0 || token_mode > 1 ||
        strip_mode < 0 || strip_mode > 2 || n >= INT32_MAX || !PyCallable_Check(normalize) ||
        (strip_mode == STRIP_UNICODE && combining.len < 0x110000 / 8)) {
        PyErr_SetString(PyExc_ValueError, "unsupported model settings");
        goto done;
    }
    if (PyList_GET_SIZE(intercepts) != n_rows) {
        PyErr_SetString(PyExc_ValueError, "intercepts must hold n_rows floats");
        goto done;
    }
    if (weights.len != (Py_ssize_t)sizeof(double) * n * (1 + n_rows)) {
        PyErr_SetString(PyExc_ValueError, "weights must be n_features x (1 + n_rows) float64");
        goto done;
    }
    if (self->weights != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scorer is already initialised");
        goto done;
    }
    for (int k = 0; k < n_rows; k++) {
        self->intercept[k] = PyFloat_AsDouble(PyList_GET_ITEM(intercepts, k));
        if (PyErr_Occurred())
            goto done;
    }
    self->n_features = n;
    self->n_rows = n_rows;
    self->high = high;
    self->lowercase = lowercase;
    self->token_mode = token_mode;
    self->strip_mode = strip_mode;
    self->normalize = Py_NewRef(normalize);
    self->nfkd = PyUnicode_FromString("NFKD");
    if (self->nfkd == NULL)
        goto done;
    /* The Scorer keeps the bitmap's buffer; the local one is released below. */
    if (PyObject_GetBuffer(combining.obj, &self->combining, PyBUF_SIMPLE) < 0)
        goto done;
    self->tf_mode = tf_mode;
    self->norm_mode = norm_mode;
    self->weights = PyMem_Malloc((size_t)weights.len ? (size_t)weights.len : 1);
    if (self->weights == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->weights, weights.buf, (size_t)weights.len);

    /* The terms' bytes, each ended by a NUL (no term holds one: tokens are word characters). */
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *term = PyList_GET_ITEM(terms, i);
        Py_ssize_t len;
        const char *bytes = PyUnicode_Check(term) ? PyUnicode_AsUTF8AndSize(term, &len) : NULL;
        if (bytes == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "term %zd is not a str", i);
            goto done;
        }
        if (memchr(bytes, 0, (size_t)len) != NULL) {
            PyErr_Format(PyExc_ValueError, "term %zd holds a NUL character", i);
            goto done;
        }
        total += len + 1;
    }
    if (total >= (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "the vocabulary is too large for this scorer");
        goto done;
    }
    self->arena = PyMem_Malloc((size_t)total + 1);
    size_t slots = 16;
    while (slots < (size_t)n * 2)
        slots <<= 1;
    self->mask = slots - 1;
    self->slots = PyMem_Malloc(sizeof(Slot) * slots);
    if (self->arena == NULL || self->slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t s = 0; s < slots; s++)
        self->slots[s].term = -1;
    uint32_t offset = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        const char *bytes = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(terms, i), &len);
        memcpy(self->arena + offset, bytes, (size_t)len);
        self->arena[offset + len] = '\0';
        if (insert_term(self, (int32_t)i, offset, len) < 0)
            goto done;
        offset += (uint32_t)len + 1;
    }
    status = 0;
done:
    PyBuffer_Release(&weights);
    PyBuffer_Release(&combining);
    return status;
}

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)0)
#endif

/* The hash of the n-gram made of tokens[0 .. k - 1] joined by single spaces. */
static inline uint64_t ngram_hash(const char *text, const Token *tokens, int k)
{
    uint64_t h = FNV_OFFSET;
    for (int t = 0; t < k; t++) {
        if (t)
            h = fnv_space(h);
        h = fnv_feed(h, text + tokens[t].start, tokens[t].end - tokens[t].start);
    }
    return h;
}

/* The feature of that n-gram (hash h), or -1. */
static int32_t lookup(const Scorer *self, uint64_t h, const char *text, const Token *tokens, int k)
{
    size_t slot = slot_of(h, self->mask);
    for (;;) {
        const Slot *entry = &self->slots[slot];
        if (entry->term < 0)
            return -1;
        if (entry->hash == h) {
            /* Byte by byte, stopping at the first difference: a stored term's NUL differs from
             * every byte of the n-gram, so this never reads past the term. */
            const char *key = self->arena + entry->offset;
            int same = 1;
            for (int t = 0; t < k && same; t++) {
                if (t && *key++ != ' ')
                    same = 0;
                for (Py_ssize_t b = tokens[t].start; same && b < tokens[t].end; b++)
                    same = *key++ == text[b];
            }
            if (same && *key == '\0')
                return entry->term;
        }
        slot = (slot + 1) & self->mask;
    }
}

static int compare_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void sort_features(int32_t *found, Py_ssize_t n)
{
    if (n > 64) {
        qsort(found, (size_t)n, sizeof(int32_t), compare_int32);
        return;
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        int32_t value = found[i];
        Py_ssize_t j = i;
        for (; j > 0 && found[j - 1] > value; j--)
            found[j] = found[j - 1];
        found[j] = value;
    }
}

static inline int is_word(Py_UCS4 ch)
{
    /* \w of Python's re module for str patterns (sre's SRE_UNI_IS_WORD) */
    return Py_UNICODE_ISALNUM(ch) || ch == '_';
}

static inline Py_ssize_t utf8_width(Py_UCS4 ch)
{
    return ch < 0x80 ? 1 : ch < 0x800 ? 2 : ch < 0x10000 ? 3 : 4;
}

static int push_token(Token **out, Token *stack, Py_ssize_t *capacity, Py_ssize_t *count,
                      Py_ssize_t start, Py_ssize_t end)
{
    if (*count == *capacity) {
        Py_ssize_t grown = *capacity * 2;
        Token *bigger = PyMem_Malloc(sizeof(Token) * (size_t)grown);
        if (bigger == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(bigger, *out, sizeof(Token) * (size_t)*count);
        if (*out != stack)
            PyMem_Free(*out);
        *out = bigger;
        *capacity = grown;
    }
    (*out)[*count].start = start;
    (*out)[*count].end = end;
    (*count)++;
    return 0;
}

/* Byte offsets (in its UTF-8 form) of the tokens of `unicode`, as re.findall with the token
 * pattern finds them. Returns how many, or -1 with an exception set. *tokens is `stack` or a new
 * PyMem block the caller frees. */
static Py_ssize_t tokenize(PyObject *unicode, int token_mode, Token *stack, Py_ssize_t stack_size,
                           Token **tokens)
{
    int kind = PyUnicode_KIND(unicode);
    const void *data = PyUnicode_DATA(unicode);
    Py_ssize_t length = PyUnicode_GET_LENGTH(unicode);
    Token *out = stack;
    Py_ssize_t capacity = stack_size, count = 0;
    Py_ssize_t i = 0, byte = 0;
    const Py_ssize_t min_chars = token_mode == TOKENS_SKLEARN ? 2 : 1;
    while (i < length) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (!is_word(ch)) {
            byte += utf8_width(ch);
            i++;
            continue;
        }
        /* A maximal run of word characters (a run always starts at a \b). */
        Py_ssize_t start = byte, chars = 0;
        while (i < length && is_word(ch = PyUnicode_READ(kind, data, i))) {
            byte += utf8_width(ch);
            i++;
            chars++;
        }
        /* TOKENS_APOSTROPHE: ['’]\w+ after the run joins the token, once. */
        if (token_mode == TOKENS_APOSTROPHE && i + 1 < length) {
            Py_UCS4 mark = PyUnicode_READ(kind, data, i);
            if ((mark == '\'' || mark == 0x2019) && is_word(PyUnicode_READ(kind, data, i + 1))) {
                byte += utf8_width(mark);
                i++;
                while (i < length && is_word(ch = PyUnicode_READ(kind, data, i))) {
                    byte += utf8_width(ch);
                    i++;
                }
            }
        }
        if (chars >= min_chars &&
            push_token(&out, stack, &capacity, &count, start, byte) < 0) {
            if (out != stack)
                PyMem_Free(out);
            return -1;
        }
    }
    *tokens = out;
    return count;
}

/* The text with its accents stripped as scikit-learn's strip_accents_unicode/_ascii do (a new
 * reference; the same object when there is nothing to strip), or NULL with an exception set. */
static PyObject *strip_accents(const Scorer *self, PyObject *text)
{
    if (self->strip_mode == STRIP_NONE || PyUnicode_IS_ASCII(text))
        return Py_NewRef(text);
    /* normalize() hands back its argument when it is already in NFKD. */
    PyObject *norm = PyObject_CallFunctionObjArgs(self->normalize, self->nfkd, text, NULL);
    if (norm == NULL)
        return NULL;
    const unsigned char *bits = self->combining.buf;
    int kind = PyUnicode_KIND(norm);
    const void *data = PyUnicode_DATA(norm);
    Py_ssize_t length = PyUnicode_GET_LENGTH(norm), kept = 0;
    Py_UCS4 widest = 0;
#define DROPPED(ch)                                                                             \
    (self->strip_mode == STRIP_ASCII ? (ch) >= 0x80                                            \
                                     : (ch) < 0x110000 && (bits[(ch) >> 3] >> ((ch) & 7)) & 1)
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (!DROPPED(ch)) {
            kept++;
            if (ch > widest)
                widest = ch;
        }
    }
    if (kept == length)
        return norm;
    PyObject *out = PyUnicode_New(kept, widest);
    if (out == NULL) {
        Py_DECREF(norm);
        return NULL;
    }
    int out_kind = PyUnicode_KIND(out);
    void *out_data = PyUnicode_DATA(out);
    for (Py_ssize_t i = 0, j = 0; i < length; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (!DROPPED(ch))
            PyUnicode_WRITE(out_kind, out_data, j++, ch);
    }
#undef DROPPED
    Py_DECREF(norm);
    return out;
}

/* proba(text) -> list of class probabilities, or None when the text cannot be encoded as UTF-8
 * (an unpaired surrogate): the Python path answers that one. */
static PyObject *Scorer_proba(Scorer *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "text must be a str");
        return NULL;
    }
    if (self->weights == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Scorer is not initialised");
        return NULL;
    }
    PyObject *lowered = self->lowercase ? PyObject_CallMethod(text, "lower", NULL)
                                        : Py_NewRef(text);
    if (lowered == NULL)
        return NULL;
    PyObject *stripped = strip_accents(self, lowered);
    Py_DECREF(lowered);
    if (stripped == NULL)
        return NULL;
    lowered = stripped;
    Py_ssize_t n_bytes;
    const char *bytes = PyUnicode_AsUTF8AndSize(lowered, &n_bytes);
    if (bytes == NULL) {
        Py_DECREF(lowered);
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        return NULL;
    }
    Token stack_tokens[STACK_TOKENS];
    Token *tokens;
    Py_ssize_t n_tokens = tokenize(lowered, self->token_mode, stack_tokens, STACK_TOKENS, &tokens);
    if (n_tokens < 0) {
        Py_DECREF(lowered);
        return NULL;
    }
    Py_ssize_t max_grams = n_tokens * self->high;
    int32_t stack_found[STACK_TOKENS * 3];
    uint64_t stack_hashes[STACK_TOKENS * 3];
    int on_stack = max_grams <= STACK_TOKENS * 3;
    int32_t *found = on_stack ? stack_found : PyMem_Malloc(sizeof(int32_t) * (size_t)max_grams);
    uint64_t *hashes = on_stack ? stack_hashes : PyMem_Malloc(sizeof(uint64_t) * (size_t)max_grams);
    if (found == NULL || hashes == NULL) {
        if (!on_stack) {
            PyMem_Free(found);
            PyMem_Free(hashes);
        }
        if (tokens != stack_tokens)
            PyMem_Free(tokens);
        Py_DECREF(lowered);
        return PyErr_NoMemory();
    }
    /* Two passes: hash every n-gram and ask for its slot, then look them up. The table is
     * megabytes and each n-gram lands somewhere else in it: asked for together, the cache misses
     * overlap instead of being waited for one by one. */
    Py_ssize_t n_grams = 0, n_found = 0;
    for (int k = 1; k <= self->high; k++)
        for (Py_ssize_t t = 0; t + k <= n_tokens; t++) {
            uint64_t h = ngram_hash(bytes, tokens + t, k);
            PREFETCH(&self->slots[slot_of(h, self->mask)]);
            hashes[n_grams++] = h;
        }
    n_grams = 0;
    for (int k = 1; k <= self->high; k++)
        for (Py_ssize_t t = 0; t + k <= n_tokens; t++) {
            int32_t index = lookup(self, hashes[n_grams++], bytes, tokens + t, k);
            if (index >= 0) {
                PREFETCH(self->weights + (size_t)index * (size_t)(1 + self->n_rows));
                found[n_found++] = index;
            }
        }
    if (!on_stack)
        PyMem_Free(hashes);
    if (tokens != stack_tokens)
        PyMem_Free(tokens);
    Py_DECREF(lowered);

    /* Sorted, equal features sit together: each run is one feature and its count. */
    sort_features(found, n_found);
    const int rows = self->n_rows, width = 1 + rows;
    double sums[MAX_CLASS_ROWS] = {0.0};
    double norm1 = 0.0, norm2 = 0.0;
    for (Py_ssize_t i = 0; i < n_found;) {
        Py_ssize_t j = i + 1;
        while (j < n_found && found[j] == found[i])
            j++;
        double count = (double)(j - i);
        double tf = self->tf_mode == TF_RAW         ? count
                    : self->tf_mode == TF_SUBLINEAR ? 1.0 + log(count)
                                                    : 1.0;
        const double *row = self->weights + (size_t)found[i] * (size_t)width;
        double value = tf * row[0];
        norm2 += value * value;
        norm1 += value;
        for (int r = 0; r < rows; r++)
            sums[r] += tf * row[1 + r];
        i = j;
    }
    if (!on_stack)
        PyMem_Free(found);

    double scale = 1.0;
    if (self->norm_mode == NORM_L2)
        scale = norm2 > 0.0 ? 1.0 / sqrt(norm2) : 0.0;
    else if (self->norm_mode == NORM_L1)
        scale = norm1 > 0.0 ? 1.0 / norm1 : 0.0;

    if (rows == 1) { /* binary: a sigmoid of one logit, as scikit-learn does */
        double z = sums[0] * scale + self->intercept[0];
        double p = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        return Py_BuildValue("[dd]", 1.0 - p, p);
    }
    double logits[MAX_CLASS_ROWS], top = -INFINITY, total = 0.0;
    for (int r = 0; r < rows; r++) {
        logits[r] = sums[r] * scale + self->intercept[r];
        if (logits[r] > top)
            top = logits[r];
    }
    for (int r = 0; r < rows; r++) {
        logits[r] = exp(logits[r] - top);
        total += logits[r];
    }
    PyObject *result = PyList_New(rows);
    if (result == NULL)
        return NULL;
    for (int r = 0; r < rows; r++) {
        PyObject *p = PyFloat_FromDouble(logits[r] / total);
        if (p == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SET_ITEM(result, r, p);
    }
    return result;
}

static PyMethodDef Scorer_methods[] = {
    {"proba", (PyCFunction)Scorer_proba, METH_O,
     "proba(text) -> class probabilities (list of float), or None for text that is not valid "
     "Unicode."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ScorerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "stance._fastpath.Scorer",
    .tp_doc = "A TF-IDF + logistic-regression model's single-text scorer.",
    .tp_basicsize = sizeof(Scorer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Scorer_init,
    .tp_dealloc = (destructor)Scorer_dealloc,
    .tp_methods = Scorer_methods,
};

static struct PyModuleDef fastpath_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "stance._fastpath",
    .m_doc = "The single-quote scorer in C (optional; stance.model falls back to Python).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__fastpath(void)
{
    if (PyType_Ready(&ScorerType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&fastpath_module);
    if (module == NULL)
        return NULL;
    Py_INCREF(&ScorerType);
    if (PyModule_AddObject(module, "Scorer", (PyObject *)&ScorerType) < 0) {
        Py_DECREF(&ScorerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
