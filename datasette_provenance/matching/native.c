/* Tokens -> MinHash signatures -> LSH bucket keys in one native call.
 *
 * The optional fast path of signatures.sign_tokens + lsh.buckets: the same arithmetic,
 * step for step, so the results are bit-identical to the numpy code (the fallback when
 * this extension was not built). tests/test_native.py checks both against each other
 * and against datasketch.
 *
 * sign(joined, a, b, shingle_size, window_size, window_step, story_min_chars,
 *      story_max_repeats, story_min_words, text_bands, text_rows, story_bands, story_rows)
 * joined: the tokens' normalised forms as UTF-8, separated by NUL bytes.
 * a, b:   the affine32 permutations (uint32, num_perm each), as bytes.
 * Returns (text bytes: windows x num_perm uint32, counts bytes: int64 per window,
 *          story bytes: num_perm uint32, story_word_count, token_count, buckets bytes: int64,
 *          shingles bytes: the uint64 shingle hashes, shingles.shingle_hashes).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ xxh64 (seed 0) */

#define P64_1 0x9E3779B185EBCA87ULL
#define P64_2 0xC2B2AE3D27D4EB4FULL
#define P64_3 0x165667B19E3779F9ULL
#define P64_4 0x85EBCA77C2B2AE63ULL
#define P64_5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t read64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static inline uint64_t xxh_round(uint64_t acc, uint64_t input) {
    acc += input * P64_2;
    acc = rotl64(acc, 31);
    return acc * P64_1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t val) {
    acc ^= xxh_round(0, val);
    return acc * P64_1 + P64_4;
}

/* XXH64 of little-endian input, seed 0 (xxhash.xxh64_intdigest). */
static uint64_t xxh64(const uint8_t *p, size_t len) {
    const uint8_t *end = p + len;
    uint64_t h;
    if (len >= 32) {
        const uint8_t *limit = end - 32;
        uint64_t v1 = P64_1 + P64_2, v2 = P64_2, v3 = 0, v4 = 0 - P64_1;
        do {
            v1 = xxh_round(v1, read64(p)); p += 8;
            v2 = xxh_round(v2, read64(p)); p += 8;
            v3 = xxh_round(v3, read64(p)); p += 8;
            v4 = xxh_round(v4, read64(p)); p += 8;
        } while (p <= limit);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xxh_merge(h, v1); h = xxh_merge(h, v2); h = xxh_merge(h, v3); h = xxh_merge(h, v4);
    } else {
        h = P64_5;
    }
    h += (uint64_t)len;
    while (p + 8 <= end) {
        h ^= xxh_round(0, read64(p));
        h = rotl64(h, 27) * P64_1 + P64_4;
        p += 8;
    }
    if (p + 4 <= end) {
        h ^= (uint64_t)read32(p) * P64_1;
        h = rotl64(h, 23) * P64_2 + P64_3;
        p += 4;
    }
    while (p < end) {
        h ^= (*p) * P64_5;
        h = rotl64(h, 11) * P64_1;
        p++;
    }
    h ^= h >> 33; h *= P64_2; h ^= h >> 29; h *= P64_3; h ^= h >> 32;
    return h;
}

/* ------------------------------------------------------------------ helpers */

static const uint64_t SHINGLE_MULT[8] = {
    0x9E3779B97F4A7C15ULL, 0xC2B2AE3D27D4EB4FULL, 0x165667B19E3779F9ULL, 0x27D4EB2F165667C5ULL,
    0xFF51AFD7ED558CCDULL, 0xC4CEB9FE1A85EC53ULL, 0x94D049BB133111EBULL, 0xBF58476D1CE4E5B9ULL};
static const uint64_t BAND_MULT[8] = {
    0x9FB21C651E98DF25ULL, 0xD6E8FEB86659FD93ULL, 0xA0761D6478BD642FULL, 0xE7037ED1A0B428DBULL,
    0x8EBC6AF09C88C6E3ULL, 0x589965CC75374CC3ULL, 0x1D8E4E27C47D124FULL, 0xF1357AEA2E62A9C5ULL};
#define REPEAT_MULT 0x9E3779B97F4A7C15ULL
#define MAX_HASH 0xFFFFFFFFu

/* shingles.shingle_hashes: count - width + 1 values (width = min(size, count)). */
static size_t shingle_hashes(const uint64_t *h, size_t count, int size, uint64_t *out) {
    if (count == 0) return 0;
    size_t width = (size_t)size < count ? (size_t)size : count;
    size_t n = count - width + 1;
    for (size_t j = 0; j < n; j++) {
        uint64_t c = 0;
        for (size_t p = 0; p < width; p++) c += h[j + p] * SHINGLE_MULT[p];
        c ^= c >> 31;
        c *= 0xBF58476D1CE4E5B9ULL;
        c ^= c >> 29;
        out[j] = c;
    }
    return n;
}

static inline uint32_t fmix32(uint32_t v) {
    v ^= v >> 16; v *= 0x85EBCA6Bu; v ^= v >> 13; v *= 0xC2B2AE35u; v ^= v >> 16;
    return v;
}

/* The inner loop vectorises well only with SSE4.1's 32-bit multiply and unsigned min:
 * compiled for those too (GCC and Clang pick the best the CPU has when loaded). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__INTEL_COMPILER)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "sse4.1", "default")))
#else
#define VECTOR_CLONES
#endif

/* MinHash of values[0:n] (already fmix32-ed) into out[num_perm]. */
VECTOR_CLONES static void block_min(const uint32_t *mixed, size_t n, const uint32_t *a, const uint32_t *b,
                      int num_perm, uint32_t *out) {
    for (int k = 0; k < num_perm; k++) out[k] = MAX_HASH;
    for (size_t i = 0; i < n; i++) {
        uint32_t m = mixed[i];
        for (int k = 0; k < num_perm; k++) {
            uint32_t v = a[k] * m + b[k];
            out[k] = v < out[k] ? v : out[k];
        }
    }
}

/* Sort n uint64 ascending: quicksort (median of three) with insertion sort for short runs,
 * comparisons inlined: several times faster than qsort's callbacks for a few hundred keys. */
static void sort_u64(uint64_t *v, size_t n) {
    while (n > 16) {
        uint64_t x = v[0], y = v[n / 2], z = v[n - 1];
        uint64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        size_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i >= j) break;
            uint64_t t = v[i]; v[i] = v[j]; v[j] = t;
            i++; j--;
        }
        /* v[0..j] <= pivot <= v[j+1..n-1]: recurse into the smaller side, loop on the other */
        size_t left = j + 1;
        if (left < n - left) { sort_u64(v, left); v += left; n -= left; }
        else { sort_u64(v + left, n - left); n = left; }
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t t = v[i];
        size_t j = i;
        while (j && v[j - 1] > t) { v[j] = v[j - 1]; j--; }
        v[j] = t;
    }
}

/* One character of a script written without spaces (shingles._NO_SPACE_SCRIPTS). */
static int unspaced_char(uint32_t c) {
    return (c >= 0x0E00 && c <= 0x0E7F) || (c >= 0x0E80 && c <= 0x0EFF) ||
           (c >= 0x1000 && c <= 0x109F) || (c >= 0x1780 && c <= 0x17FF) ||
           (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0x20000 && c <= 0x2FFFF);
}

/* Code points in a UTF-8 token, and whether it is a single unspaced-script character. */
static size_t utf8_length(const uint8_t *p, size_t len, int *unspaced) {
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) chars += (p[i] & 0xC0) != 0x80;
    *unspaced = 0;
    if (chars == 1) {
        uint32_t c;
        if (len == 1) c = p[0];
        else if (len == 2) c = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
        else if (len == 3) c = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        else c = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
                 (p[3] & 0x3Fu);
        *unspaced = unspaced_char(c);
    }
    return chars;
}

/* index.band_hashes + index._fold for one signature row, appended to out. */
static size_t fold_bands(const uint32_t *sig, int bands, int rows, int kind_bit, int64_t *out) {
    for (int band = 0; band < bands; band++) {
        uint64_t c = 0;
        for (int r = 0; r < rows; r++) c += (uint64_t)sig[band * rows + r] * BAND_MULT[r];
        c ^= c >> 30; c *= 0xBF58476D1CE4E5B9ULL;
        c ^= c >> 27; c *= 0x94D049BB133111EBULL;
        c ^= c >> 31;
        int64_t hash = (int64_t)c;
        out[band] = (int64_t)(((uint64_t)hash & ~(uint64_t)0x3FF) | (uint64_t)(band << 1 | kind_bit));
    }
    return (size_t)bands;
}

/* np.unique of int64 values, in place (signed order: the sign bit flipped for sorting). */
static size_t sorted_unique(int64_t *v, uint64_t *tmp, size_t n) {
    if (n == 0) return 0;
    uint64_t *u = (uint64_t *)v;
    for (size_t i = 0; i < n; i++) u[i] ^= 0x8000000000000000ULL;
    sort_u64(u, n); (void)tmp;
    for (size_t i = 0; i < n; i++) u[i] ^= 0x8000000000000000ULL;
    size_t out = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[out - 1]) v[out++] = v[i];
    return out;
}

/* ------------------------------------------------------------------ sign */

static PyObject *sign(PyObject *self, PyObject *args) {
    Py_buffer joined, abuf, bbuf;
    int shingle_size, window_size, window_step, story_min_chars, story_max_repeats,
        story_min_words, text_bands, text_rows, story_bands, story_rows;
    Py_ssize_t given_count;
    if (!PyArg_ParseTuple(args, "y*ny*y*iiiiiiiiii", &joined, &given_count, &abuf, &bbuf, &shingle_size,
                          &window_size, &window_step, &story_min_chars, &story_max_repeats,
                          &story_min_words, &text_bands, &text_rows, &story_bands, &story_rows))
        return NULL;
    PyObject *result = NULL;
    int num_perm = (int)(abuf.len / 4);
    const uint32_t *a = abuf.buf, *b = bbuf.buf;
    const uint8_t *text = joined.buf;
    size_t length = (size_t)joined.len;
    uint64_t *hashes = NULL, *shingles = NULL, *story_values = NULL, *shingles_tmp = NULL,
             *sort_tmp = NULL;
    uint8_t *content = NULL, *unspaced = NULL;
    uint32_t *mixed = NULL, *windows = NULL, *blocks = NULL;
    int64_t *counts = NULL, *buckets = NULL;

    /* Tokens: given_count of them, NUL-separated (the caller checked the separators). */
    size_t count = given_count > 0 ? (size_t)given_count : 0;
    size_t separators = 0;
    for (size_t i = 0; i < length; i++) separators += text[i] == 0;
    if (count ? separators != count - 1 : length != 0) {
        PyErr_SetString(PyExc_ValueError, "token count does not match the NUL separators");
        PyBuffer_Release(&joined); PyBuffer_Release(&abuf); PyBuffer_Release(&bbuf);
        return NULL;
    }
    size_t alloc = count ? count : 1;
    hashes = malloc(alloc * sizeof(uint64_t));
    shingles = malloc(alloc * sizeof(uint64_t));
    story_values = malloc(2 * alloc * sizeof(uint64_t));
    shingles_tmp = malloc(2 * alloc * sizeof(uint64_t));
    content = malloc(alloc);
    unspaced = malloc(alloc);
    mixed = malloc(2 * alloc * sizeof(uint32_t));
    if (!hashes || !shingles || !story_values || !shingles_tmp || !content || !unspaced || !mixed) {
        PyErr_NoMemory();
        goto done;
    }
    {
        size_t start = 0, token = 0;
        for (size_t i = 0; i <= length && count; i++) {
            if (i == length || text[i] == 0) {
                int single_unspaced;
                size_t chars = utf8_length(text + start, i - start, &single_unspaced);
                hashes[token] = xxh64(text + start, i - start);
                unspaced[token] = (uint8_t)single_unspaced;
                content[token] = chars >= (size_t)story_min_chars && !single_unspaced;
                token++;
                start = i + 1;
            }
        }
    }

    /* Text windows (signatures.text_windows). */
    size_t n = shingle_hashes(hashes, count, shingle_size, shingles);
    for (size_t i = 0; i < n; i++) mixed[i] = fmix32((uint32_t)shingles[i]);
    size_t window_rows;
    if (n < (size_t)(window_size + window_step)) {
        window_rows = 1;
        windows = malloc((size_t)num_perm * sizeof(uint32_t));
        counts = malloc(sizeof(int64_t));
        if (!windows || !counts) { PyErr_NoMemory(); goto done; }
        block_min(mixed, n, a, b, num_perm, windows);
        counts[0] = (int64_t)n;
    } else {
        size_t step = (size_t)window_step, size = (size_t)window_size;
        size_t block_count = (n + step - 1) / step;
        size_t per_window = size / step;
        size_t window_count = (n - size) / step + 1;
        window_rows = 1 + window_count;
        blocks = malloc(block_count * (size_t)num_perm * sizeof(uint32_t));
        windows = malloc(window_rows * (size_t)num_perm * sizeof(uint32_t));
        counts = malloc(window_rows * sizeof(int64_t));
        if (!blocks || !windows || !counts) { PyErr_NoMemory(); goto done; }
        for (size_t blk = 0; blk < block_count; blk++) {
            size_t first = blk * step, len = first + step <= n ? step : n - first;
            block_min(mixed + first, len, a, b, num_perm, blocks + blk * num_perm);
        }
        uint32_t *whole = windows;
        for (int k = 0; k < num_perm; k++) whole[k] = MAX_HASH;
        for (size_t blk = 0; blk < block_count; blk++)
            for (int k = 0; k < num_perm; k++) {
                uint32_t v = blocks[blk * num_perm + k];
                whole[k] = v < whole[k] ? v : whole[k];
            }
        for (size_t w = 0; w < window_count; w++) {
            uint32_t *row = windows + (1 + w) * num_perm;
            size_t last = w + 1 == window_count ? block_count : w + per_window;
            memcpy(row, blocks + w * num_perm, (size_t)num_perm * sizeof(uint32_t));
            for (size_t blk = w + 1; blk < last; blk++)
                for (int k = 0; k < num_perm; k++) {
                    uint32_t v = blocks[blk * num_perm + k];
                    row[k] = v < row[k] ? v : row[k];
                }
            counts[1 + w] = (int64_t)size;
        }
        counts[0] = (int64_t)n;
        counts[window_count] = (int64_t)(n - (window_count - 1) * step);
    }

    /* Story words (signatures._story_hashes, _counted_occurrences). */
    size_t story_count = 0;
    for (size_t i = 0; i < count; i++)
        if (content[i]) story_values[story_count++] = hashes[i];
    if (count >= 2) {
        for (size_t i = 0; i + 1 < count; i++)
            if (unspaced[i] && unspaced[i + 1]) {
                uint64_t c = hashes[i] * SHINGLE_MULT[0] + hashes[i + 1] * SHINGLE_MULT[1];
                c ^= c >> 31; c *= 0xBF58476D1CE4E5B9ULL; c ^= c >> 29;
                story_values[story_count++] = c;
            }
    }
    sort_u64(story_values, story_count);
    {
        size_t kept = 0, occurrence = 0;
        uint64_t previous = 0;
        for (size_t i = 0; i < story_count; i++) {
            uint64_t value = story_values[i];  /* read before kept entries overwrite it */
            occurrence = (i && value == previous) ? occurrence + 1 : 0;
            previous = value;
            if (story_max_repeats == 1) {
                if (!occurrence) story_values[kept++] = value;
            } else if (occurrence < (size_t)story_max_repeats) {
                story_values[kept++] = value + (uint64_t)occurrence * REPEAT_MULT;
            }
        }
        story_count = kept;
    }
    uint32_t *story = malloc((size_t)num_perm * sizeof(uint32_t));
    if (!story) { PyErr_NoMemory(); goto done; }
    for (size_t i = 0; i < story_count; i++) mixed[i] = fmix32((uint32_t)story_values[i]);
    block_min(mixed, story_count, a, b, num_perm, story);

    /* Buckets (index.buckets): text bands of the banded windows, then story bands. */
    size_t first_banded = window_rows > 1 ? 1 : 0;
    size_t banded = n == 0 ? 0 : window_rows - first_banded;
    size_t most_keys = banded * (size_t)text_bands + (size_t)story_bands + 1;
    buckets = malloc(most_keys * sizeof(int64_t));
    sort_tmp = malloc(most_keys * sizeof(uint64_t));
    if (!buckets || !sort_tmp) { free(story); PyErr_NoMemory(); goto done; }
    size_t text_keys = 0;
    for (size_t w = first_banded; w < first_banded + banded; w++)
        text_keys += fold_bands(windows + w * num_perm, text_bands, text_rows, 0,
                                buckets + text_keys);
    text_keys = sorted_unique(buckets, sort_tmp, text_keys);
    size_t story_keys = 0;
    if (story_count >= (size_t)story_min_words) {
        story_keys = fold_bands(story, story_bands, story_rows, 1, buckets + text_keys);
        story_keys = sorted_unique(buckets + text_keys, sort_tmp, story_keys);
    }

    result = Py_BuildValue(
        "y#y#y#nny#y#", (const char *)windows, (Py_ssize_t)(window_rows * num_perm * 4),
        (const char *)counts, (Py_ssize_t)(window_rows * 8), (const char *)story,
        (Py_ssize_t)(num_perm * 4), (Py_ssize_t)story_count, (Py_ssize_t)count,
        (const char *)buckets, (Py_ssize_t)((text_keys + story_keys) * 8),
        (const char *)shingles, (Py_ssize_t)(n * 8));
    free(story);

done:
    free(hashes); free(shingles); free(story_values); free(shingles_tmp); free(sort_tmp); free(content); free(unspaced);
    free(mixed); free(windows); free(blocks); free(counts); free(buckets);
    PyBuffer_Release(&joined); PyBuffer_Release(&abuf); PyBuffer_Release(&bbuf);
    return result;
}

static PyObject *token_hashes(PyObject *self, PyObject *args) {
    Py_buffer joined;
    if (!PyArg_ParseTuple(args, "y*", &joined)) return NULL;
    const uint8_t *text = joined.buf;
    size_t length = (size_t)joined.len, count = 0;
    if (length) {
        count = 1;
        for (size_t i = 0; i < length; i++) count += text[i] == 0;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(count * 8));
    if (out) {
        uint64_t *hashes = (uint64_t *)PyBytes_AS_STRING(out);
        size_t start = 0, token = 0;
        for (size_t i = 0; i <= length && count; i++)
            if (i == length || text[i] == 0) {
                hashes[token++] = xxh64(text + start, i - start);
                start = i + 1;
            }
    }
    PyBuffer_Release(&joined);
    return out;
}

static PyMethodDef methods[] = {
    {"sign", sign, METH_VARARGS, "Tokens to signatures and LSH buckets (see the module)."},
    {"token_hashes", token_hashes, METH_VARARGS, "xxh64 of each NUL-separated token."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "datasette_provenance.matching.native",
                                    "Native tokens-to-band-keys step.", -1, methods};

/* What signatures.py expects of this module (NATIVE_INTERFACE there): a build of an older
 * native.c (an editable install not rebuilt since) is then ignored, not misread. */
#define INTERFACE 2

PyMODINIT_FUNC PyInit_native(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "INTERFACE", INTERFACE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
