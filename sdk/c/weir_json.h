/* A small JSON reader and writer for C plugins (part of Weir's C SDK): enough to read
 * top-level fields of an event's JSON object and to write JSON the way the Rust, Python
 * and JavaScript SDKs write it (compact, the same escapes), so that a port of an
 * operator to C emits the same bytes.
 *
 *   weir_json_field_t user;
 *   int found = weir_json_get(value, len, "user", &user);  // -1: not a JSON object
 *   if (found == 1 && user.type == WEIR_JSON_STRING) ...
 *
 * The reader checks the whole document's syntax (RFC 8259; nesting up to 128 levels);
 * with a name given twice, the last one counts (as in serde_json, Python and JS).
 */
#ifndef WEIR_JSON_H
#define WEIR_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef enum {
  WEIR_JSON_NULL,
  WEIR_JSON_BOOL,
  WEIR_JSON_NUMBER,
  WEIR_JSON_STRING,
  WEIR_JSON_ARRAY,
  WEIR_JSON_OBJECT,
} weir_json_type_t;

/* A field's value: its type and its text in the document (a string with its quotes). */
typedef struct {
  weir_json_type_t type;
  const uint8_t *text;
  size_t len;
} weir_json_field_t;

typedef struct {
  const uint8_t *at, *end;
  int depth;
} weir_json_reader_t;

static inline void weir_json_ws(weir_json_reader_t *r) {
  while (r->at < r->end && (*r->at == ' ' || *r->at == '\t' || *r->at == '\n' || *r->at == '\r'))
    r->at++;
}

static inline bool weir_json_literal(weir_json_reader_t *r, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(r->end - r->at) < n || memcmp(r->at, word, n) != 0) return false;
  r->at += n;
  return true;
}

static inline bool weir_json_string(weir_json_reader_t *r) {
  if (r->at >= r->end || *r->at != '"') return false;
  r->at++;
  while (r->at < r->end) {
    uint8_t c = *r->at++;
    if (c == '"') return true;
    if (c < 0x20) return false;
    if (c == '\\') {
      if (r->at >= r->end) return false;
      uint8_t e = *r->at++;
      if (e == 'u') {
        for (int k = 0; k < 4; k++) {
          if (r->at >= r->end) return false;
          uint8_t h = *r->at++;
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
            return false;
        }
      } else if (!strchr("\"\\/bfnrt", e) || e == 0) {
        return false;
      }
    }
  }
  return false;
}

static inline bool weir_json_digits(weir_json_reader_t *r) {
  const uint8_t *start = r->at;
  while (r->at < r->end && *r->at >= '0' && *r->at <= '9') r->at++;
  return r->at > start;
}

static inline bool weir_json_number(weir_json_reader_t *r) {
  if (r->at < r->end && *r->at == '-') r->at++;
  if (r->at < r->end && *r->at == '0') r->at++;
  else if (!weir_json_digits(r)) return false;
  if (r->at < r->end && *r->at == '.') {
    r->at++;
    if (!weir_json_digits(r)) return false;
  }
  if (r->at < r->end && (*r->at == 'e' || *r->at == 'E')) {
    r->at++;
    if (r->at < r->end && (*r->at == '+' || *r->at == '-')) r->at++;
    if (!weir_json_digits(r)) return false;
  }
  return true;
}

static inline bool weir_json_value(weir_json_reader_t *r, weir_json_field_t *out, const char *want,
                            weir_json_field_t *found, int *hits);

/* An object; at the top level (`want` set) records the last member named `want`. */
static inline bool weir_json_object(weir_json_reader_t *r, const char *want, weir_json_field_t *found,
                             int *hits) {
  r->at++; /* '{' */
  weir_json_ws(r);
  if (r->at < r->end && *r->at == '}') {
    r->at++;
    return true;
  }
  for (;;) {
    weir_json_ws(r);
    const uint8_t *name = r->at;
    if (!weir_json_string(r)) return false;
    size_t name_len = (size_t)(r->at - name) - 2;
    weir_json_ws(r);
    if (r->at >= r->end || *r->at != ':') return false;
    r->at++;
    weir_json_ws(r);
    weir_json_field_t member;
    if (!weir_json_value(r, &member, NULL, NULL, NULL)) return false;
    /* Names are compared as written: a name spelled with escapes does not match. */
    if (want && name_len == strlen(want) && memcmp(name + 1, want, name_len) == 0) {
      *found = member;
      *hits = 1;
    }
    weir_json_ws(r);
    if (r->at < r->end && *r->at == ',') {
      r->at++;
      continue;
    }
    if (r->at < r->end && *r->at == '}') {
      r->at++;
      return true;
    }
    return false;
  }
}

static inline bool weir_json_value(weir_json_reader_t *r, weir_json_field_t *out, const char *want,
                            weir_json_field_t *found, int *hits) {
  if (r->at >= r->end || ++r->depth > 128) return false;
  const uint8_t *start = r->at;
  bool ok;
  switch (*r->at) {
  case '{':
    out->type = WEIR_JSON_OBJECT;
    ok = weir_json_object(r, want, found, hits);
    break;
  case '[':
    out->type = WEIR_JSON_ARRAY;
    r->at++;
    weir_json_ws(r);
    ok = true;
    if (r->at < r->end && *r->at == ']') {
      r->at++;
      break;
    }
    for (;;) {
      weir_json_field_t item;
      weir_json_ws(r);
      if (!weir_json_value(r, &item, NULL, NULL, NULL)) { ok = false; break; }
      weir_json_ws(r);
      if (r->at < r->end && *r->at == ',') { r->at++; continue; }
      ok = r->at < r->end && *r->at == ']';
      if (ok) r->at++;
      break;
    }
    break;
  case '"':
    out->type = WEIR_JSON_STRING;
    ok = weir_json_string(r);
    break;
  case 't':
    out->type = WEIR_JSON_BOOL;
    ok = weir_json_literal(r, "true");
    break;
  case 'f':
    out->type = WEIR_JSON_BOOL;
    ok = weir_json_literal(r, "false");
    break;
  case 'n':
    out->type = WEIR_JSON_NULL;
    ok = weir_json_literal(r, "null");
    break;
  default:
    out->type = WEIR_JSON_NUMBER;
    ok = weir_json_number(r);
  }
  r->depth--;
  out->text = start;
  out->len = (size_t)(r->at - start);
  return ok;
}

/* Reads the top-level field `name` of the JSON object in `json`: 1 and the field in
 * `field` when present, 0 when absent, -1 when `json` is not one JSON object. */
static inline int weir_json_get(const uint8_t *json, size_t len, const char *name,
                         weir_json_field_t *field) {
  weir_json_reader_t r = {json, json + len, 0};
  weir_json_field_t top;
  int hits = 0;
  weir_json_ws(&r);
  if (r.at >= r.end || *r.at != '{') return -1;
  if (!weir_json_value(&r, &top, name, field, &hits)) return -1;
  weir_json_ws(&r);
  return r.at == r.end ? hits : -1;
}

/* The value of a number field written as a plain non-negative integer (digits only:
 * no sign, fraction or exponent) up to `max`; false otherwise. */
static inline bool weir_json_uint(const weir_json_field_t *field, uint64_t max, uint64_t *value) {
  if (field->type != WEIR_JSON_NUMBER || field->len == 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < field->len; i++) {
    uint8_t c = field->text[i];
    if (c < '0' || c > '9') return false;
    if (v > (max - (uint64_t)(c - '0')) / 10) return false;
    v = v * 10 + (uint64_t)(c - '0');
  }
  *value = v;
  return true;
}

static inline int weir_json_hex(uint8_t h) {
  return h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10;
}

/* Appends the UTF-8 of code point `c` to `out` (room for 4 bytes); returns the length. */
static inline size_t weir_json_utf8(uint32_t c, uint8_t *out) {
  if (c < 0x80) { out[0] = (uint8_t)c; return 1; }
  if (c < 0x800) { out[0] = 0xc0 | (c >> 6); out[1] = 0x80 | (c & 63); return 2; }
  if (c < 0x10000) {
    out[0] = 0xe0 | (c >> 12); out[1] = 0x80 | ((c >> 6) & 63); out[2] = 0x80 | (c & 63);
    return 3;
  }
  out[0] = 0xf0 | (c >> 18); out[1] = 0x80 | ((c >> 12) & 63);
  out[2] = 0x80 | ((c >> 6) & 63); out[3] = 0x80 | (c & 63);
  return 4;
}

/* Decodes a string field (checked by weir_json_get) into `out`, which needs room for
 * `field->len` bytes; returns the decoded length. A lone surrogate becomes U+FFFD. */
static inline size_t weir_json_unescape(const weir_json_field_t *field, uint8_t *out) {
  size_t n = 0;
  const uint8_t *p = field->text + 1, *end = field->text + field->len - 1;
  while (p < end) {
    if (*p != '\\') { out[n++] = *p++; continue; }
    p++;
    uint8_t e = *p++;
    switch (e) {
    case 'b': out[n++] = '\b'; break;
    case 'f': out[n++] = '\f'; break;
    case 'n': out[n++] = '\n'; break;
    case 'r': out[n++] = '\r'; break;
    case 't': out[n++] = '\t'; break;
    case 'u': {
      uint32_t c = 0;
      for (int k = 0; k < 4; k++) c = c * 16 + (uint32_t)weir_json_hex(*p++);
      if (c >= 0xd800 && c < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
        uint32_t low = 0;
        for (int k = 2; k < 6; k++) low = low * 16 + (uint32_t)weir_json_hex(p[k]);
        if (low >= 0xdc00 && low < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
          p += 6;
        }
      }
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      n += weir_json_utf8(c, out + n);
      break;
    }
    default: out[n++] = e; /* '"', '\\', '/' */
    }
  }
  return n;
}

/* A growable byte buffer for writing JSON. */
typedef struct {
  uint8_t *ptr;
  size_t len, cap;
} weir_buf_t;

static inline void weir_buf_put(weir_buf_t *b, const void *bytes, size_t n) {
  weir_append(&b->ptr, &b->len, &b->cap, bytes, n);
}

static inline void weir_buf_str(weir_buf_t *b, const char *text) { weir_buf_put(b, text, strlen(text)); }

/* Writes `text` (UTF-8) as a JSON string: `"` `\` and control characters escaped as
 * serde_json, Python's json and JSON.stringify do; everything else as it is. */
static inline void weir_json_write_string(weir_buf_t *b, const uint8_t *text, size_t len) {
  weir_buf_str(b, "\"");
  for (size_t i = 0; i < len; i++) {
    uint8_t c = text[i];
    const char *esc = NULL;
    char hex[7];
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    default:
      if (c < 0x20) {
        snprintf(hex, sizeof hex, "\\u%04x", c);
        esc = hex;
      }
    }
    if (esc) weir_buf_str(b, esc);
    else weir_buf_put(b, &c, 1);
  }
  weir_buf_str(b, "\"");
}

/* Writes a signed 64-bit integer. */
static inline void weir_json_write_i64(weir_buf_t *b, int64_t value) {
  char digits[24];
  int n = snprintf(digits, sizeof digits, "%lld", (long long)value);
  weir_buf_put(b, digits, (size_t)n);
}

#endif
