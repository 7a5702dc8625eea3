/* The single-quote scorer of a TF-IDF + logistic-regression model, in C.
 *
 * stance.model's pure-Python fast path spends most of its time building n-gram strings and
 * looking each one up in a dict. This does the same arithmetic without creating a Python object
 * per n-gram: it splits the lower-cased (and, for non-ASCII text, accent-stripped) text into
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

typedef struct {
    PyObject_HEAD
    Py_ssize_t n_features;
    int n_rows;           /* rows of coef_: the number of classes, or 1 for a binary model */
    int high;             /* the longest n-gram, 1 to 3 */
    int lowercase;
    int token_mode;
    PyObject *strip;      /* the accent stripper for non-ASCII text, or NULL */
    int tf_mode;
    int norm_mode;
    double intercept[MAX_CLASS_ROWS];
    double *weights;      /* per feature: idf, then idf * coef for each row */
    char *arena;          /* every term's UTF-8 bytes, back to back */
    Py_ssize_t *offsets;  /* term i is arena[offsets[i]:offsets[i + 1]] */
    uint64_t *slot_hash;
    int32_t *slot_term;   /* -1 for an empty slot */
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
    Py_XDECREF(self->strip);
    PyMem_Free(self->weights);
    PyMem_Free(self->arena);
    PyMem_Free(self->offsets);
    PyMem_Free(self->slot_hash);
    PyMem_Free(self->slot_term);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int insert_term(Scorer *self, int32_t index)
{
    const char *key = self->arena + self->offsets[index];
    Py_ssize_t len = self->offsets[index + 1] - self->offsets[index];
    uint64_t h = fnv_feed(FNV_OFFSET, key, len);
    size_t slot = slot_of(h, self->mask);
    while (self->slot_term[slot] >= 0) {
        int32_t other = self->slot_term[slot];
        Py_ssize_t other_len = self->offsets[other + 1] - self->offsets[other];
        if (self->slot_hash[slot] == h && other_len == len &&
            memcmp(self->arena + self->offsets[other], key, (size_t)len) == 0) {
            PyErr_Format(PyExc_ValueError, "the vocabulary holds a term twice (index %d)", index);
            return -1;
        }
        slot = (slot + 1) & self->mask;
    }
    self->slot_hash[slot] = h;
    self->slot_term[slot] = index;
    return 0;
}

/* Scorer(terms, weights, n_rows, intercepts, high, lowercase, strip, token_mode, tf_mode,
 *        norm_mode)
 * terms: list of str, the term of each feature index; weights: bytes holding float64
 * [n_features][1 + n_rows] (idf, then idf * coef per row); intercepts: list of n_rows floats;
 * strip: None or a function str -> str applied after lower-casing to text that is not ASCII. */
static int Scorer_init(Scorer *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"terms", "weights", "n_rows", "intercepts", "high", "lowercase",
                             "strip", "token_mode", "tf_mode", "norm_mode", NULL};
    PyObject *terms, *intercepts, *strip;
    Py_buffer weights;
    int n_rows, high, lowercase, token_mode, tf_mode, norm_mode;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!y*iO!ipOiii", kwlist, &PyList_Type, &terms,
                                     &weights, &n_rows, &PyList_Type, &intercepts, &high,
                                     &lowercase, &strip, &token_mode, &tf_mode, &norm_mode))
        return -1;
    int status = -1;
    Py_ssize_t n = PyList_GET_SIZE(terms);
    if (n_rows < 1 || n_rows > MAX_CLASS_ROWS || high < 1 || high > 3 || tf_mode < 0 ||
        tf_mode > 2 || norm_mode < 0 || norm_mode > 2 || token_mode < 0 || token_mode > 1 ||
        n >= INT32_MAX || (strip != Py_None && !PyCallable_Check(strip))) {
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
    self->strip = strip == Py_None ? NULL : Py_NewRef(strip);
    self->tf_mode = tf_mode;
    self->norm_mode = norm_mode;
    self->weights = PyMem_Malloc((size_t)weights.len ? (size_t)weights.len : 1);
    self->offsets = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n + 1));
    if (self->weights == NULL || self->offsets == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(self->weights, weights.buf, (size_t)weights.len);

    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *term = PyList_GET_ITEM(terms, i);
        Py_ssize_t len;
        if (!PyUnicode_Check(term) || PyUnicode_AsUTF8AndSize(term, &len) == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "term %zd is not a str", i);
            goto done;
        }
        self->offsets[i] = total;
        total += len;
    }
    self->offsets[n] = total;
    self->arena = PyMem_Malloc((size_t)total + 1);
    if (self->arena == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        const char *bytes = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(terms, i), &len);
        memcpy(self->arena + self->offsets[i], bytes, (size_t)len);
    }

    size_t slots = 16;
    while (slots < (size_t)n * 2)
        slots <<= 1;
    self->mask = slots - 1;
    self->slot_hash = PyMem_Malloc(sizeof(uint64_t) * slots);
    self->slot_term = PyMem_Malloc(sizeof(int32_t) * slots);
    if (self->slot_hash == NULL || self->slot_term == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memset(self->slot_term, 0xff, sizeof(int32_t) * slots); /* every slot -1 */
    for (Py_ssize_t i = 0; i < n; i++)
        if (insert_term(self, (int32_t)i) < 0)
            goto done;
    status = 0;
done:
    PyBuffer_Release(&weights);
    return status;
}

/* The feature of the n-gram made of tokens[first .. first + k - 1] joined by single spaces. */
static int32_t lookup(const Scorer *self, const char *text, const Token *tokens, int k)
{
    uint64_t h = FNV_OFFSET;
    Py_ssize_t len = k - 1;
    for (int t = 0; t < k; t++) {
        if (t)
            h = fnv_space(h);
        h = fnv_feed(h, text + tokens[t].start, tokens[t].end - tokens[t].start);
        len += tokens[t].end - tokens[t].start;
    }
    size_t slot = slot_of(h, self->mask);
    for (;;) {
        int32_t index = self->slot_term[slot];
        if (index < 0)
            return -1;
        if (self->slot_hash[slot] == h && self->offsets[index + 1] - self->offsets[index] == len) {
            const char *key = self->arena + self->offsets[index];
            int same = 1;
            for (int t = 0; t < k && same; t++) {
                Py_ssize_t piece = tokens[t].end - tokens[t].start;
                if (t) {
                    same = *key == ' ';
                    key++;
                }
                same = same && memcmp(key, text + tokens[t].start, (size_t)piece) == 0;
                key += piece;
            }
            if (same)
                return index;
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
    /* scikit-learn's strippers return ASCII text unchanged: call them only for the rest. */
    if (self->strip != NULL && !PyUnicode_IS_ASCII(lowered)) {
        PyObject *stripped = PyObject_CallOneArg(self->strip, lowered);
        Py_DECREF(lowered);
        if (stripped == NULL)
            return NULL;
        if (!PyUnicode_Check(stripped)) {
            Py_DECREF(stripped);
            PyErr_SetString(PyExc_TypeError, "strip must return a str");
            return NULL;
        }
        lowered = stripped;
    }
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
    int32_t *found = max_grams <= STACK_TOKENS * 3 ? stack_found
                                                    : PyMem_Malloc(sizeof(int32_t) * (size_t)max_grams);
    if (found == NULL) {
        if (tokens != stack_tokens)
            PyMem_Free(tokens);
        Py_DECREF(lowered);
        return PyErr_NoMemory();
    }
    Py_ssize_t n_found = 0;
    for (int k = 1; k <= self->high; k++)
        for (Py_ssize_t t = 0; t + k <= n_tokens; t++) {
            int32_t index = lookup(self, bytes, tokens + t, k);
            if (index >= 0)
                found[n_found++] = index;
        }
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
    if (found != stack_found)
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
