/* Weir's C SDK: events read from a WIT batch and outputs built for the host, on top of
 * the bindings wit-bindgen's C generator writes for a Weir world (include the world's
 * header, e.g. "stateless_processor.h", before this one).
 *
 *   weir_events_t it; weir_event_t ev;
 *   weir_events_begin(&it, batch);
 *   while (weir_events_next(&it, &ev)) { ... weir_output_emit_value(&out, &ev, v, n); }
 *   weir_output_finish(&out, ret);   // moves everything into the WIT `outputs`
 *
 * Memory: what goes into `outputs` is malloc'd and freed by the bindings' post-return
 * (as the canonical ABI wants). Functions are `static inline` so that one plugin is one
 * translation unit plus the bindings. Build: scripts/build-lang-plugins, or a
 * template's build.sh (zig cc -target wasm32-wasi, then wasm-componentize).
 */
#ifndef WEIR_H
#define WEIR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- Reading events ------------------------------------------------------------ */

/* One event of a batch; pointers borrow the batch. */
typedef struct {
  uint32_t index;
  bool has_key; /* an absent key is not the same as an empty one */
  const uint8_t *key;
  size_t key_len;
  const uint8_t *value;
  size_t value_len;
  int64_t timestamp;
  const weir_operator_types_header_t *headers; /* this event's headers, in order */
  size_t header_count;
} weir_event_t;

/* A cursor over the events of a batch. */
typedef struct {
  const weir_operator_types_batch_t *batch;
  size_t next, keyless_at, header_at;
} weir_events_t;

static inline void weir_events_begin(weir_events_t *it, const weir_operator_types_batch_t *batch) {
  memset(it, 0, sizeof *it);
  it->batch = batch;
}

/* The next event into `ev`; false at the end. The host checked the batch's invariants
 * (ends non-decreasing, keyless and header events ascending and in range). */
static inline bool weir_events_next(weir_events_t *it, weir_event_t *ev) {
  const weir_operator_types_batch_t *b = it->batch;
  size_t i = it->next;
  if (i >= b->timestamps.len) return false;
  uint32_t value_start = i ? b->value_ends.ptr[i - 1] : 0;
  uint32_t key_start = i ? b->key_ends.ptr[i - 1] : 0;
  ev->index = (uint32_t)i;
  ev->timestamp = b->timestamps.ptr[i];
  ev->value = b->values.ptr + value_start;
  ev->value_len = b->value_ends.ptr[i] - value_start;
  ev->key = b->keys.ptr + key_start;
  ev->key_len = b->key_ends.ptr[i] - key_start;
  ev->has_key = true;
  if (it->keyless_at < b->keyless.len && b->keyless.ptr[it->keyless_at] == i) {
    ev->has_key = false;
    it->keyless_at++;
  }
  ev->headers = b->headers.ptr + it->header_at;
  ev->header_count = 0;
  while (it->header_at < b->headers.len && b->headers.ptr[it->header_at].event == i) {
    it->header_at++;
    ev->header_count++;
  }
  it->next++;
  return true;
}

/* --- Growable buffers ------------------------------------------------------------ */

/* Grows `*ptr` (of `*cap` elements of `size` bytes) to hold `need`; aborts (a trap,
 * which fails the call) when memory runs out. */
static inline void weir_reserve(void **ptr, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return;
  size_t cap2 = *cap ? *cap * 2 : 16;
  while (cap2 < need) cap2 *= 2;
  void *grown = realloc(*ptr, cap2 * size);
  if (!grown) abort();
  *ptr = grown;
  *cap = cap2;
}

#define WEIR_PUSH(list, cap, value)                                                     \
  do {                                                                                  \
    weir_reserve((void **)&(list).ptr, &(cap), (list).len + 1, sizeof *(list).ptr);    \
    (list).ptr[(list).len++] = (value);                                                 \
  } while (0)

static inline void weir_append(uint8_t **ptr, size_t *len, size_t *cap, const void *bytes, size_t n) {
  weir_reserve((void **)ptr, cap, *len + n, 1);
  if (n) memcpy(*ptr + *len, bytes, n);
  *len += n;
}

/* --- Building outputs ------------------------------------------------------------ */

/* A batch being built, straight into the WIT record's lists. */
typedef struct {
  weir_operator_types_batch_t batch;
  size_t timestamps_cap, values_cap, value_ends_cap, keys_cap, key_ends_cap, keyless_cap,
      headers_cap;
} weir_batch_builder_t;

static inline void weir_batch_push(weir_batch_builder_t *bb, bool has_key, const uint8_t *key,
                            size_t key_len, const uint8_t *value, size_t value_len,
                            int64_t timestamp) {
  weir_operator_types_batch_t *b = &bb->batch;
  uint32_t index = (uint32_t)b->timestamps.len;
  WEIR_PUSH(b->timestamps, bb->timestamps_cap, timestamp);
  weir_append(&b->values.ptr, &b->values.len, &bb->values_cap, value, value_len);
  WEIR_PUSH(b->value_ends, bb->value_ends_cap, (uint32_t)b->values.len);
  if (has_key)
    weir_append(&b->keys.ptr, &b->keys.len, &bb->keys_cap, key, key_len);
  else
    WEIR_PUSH(b->keyless, bb->keyless_cap, index);
  WEIR_PUSH(b->key_ends, bb->key_ends_cap, (uint32_t)b->keys.len);
}

/* Copies `n` bytes into a fresh allocation (the bindings free it after the call). */
static inline uint8_t *weir_copy(const void *bytes, size_t n) {
  uint8_t *copy = malloc(n ? n : 1);
  if (!copy) abort();
  if (n) memcpy(copy, bytes, n);
  return copy;
}

/* Adds copies of `ev`'s headers to the last event pushed to `bb`. */
static inline void weir_batch_copy_headers(weir_batch_builder_t *bb, const weir_event_t *ev) {
  weir_operator_types_batch_t *b = &bb->batch;
  for (size_t h = 0; h < ev->header_count; h++) {
    weir_operator_types_header_t header;
    header.event = (uint32_t)(b->timestamps.len - 1);
    header.name.len = ev->headers[h].name.len;
    header.name.ptr = weir_copy(ev->headers[h].name.ptr, header.name.len);
    header.value.len = ev->headers[h].value.len;
    header.value.ptr = weir_copy(ev->headers[h].value.ptr, header.value.len);
    WEIR_PUSH(b->headers, bb->headers_cap, header);
  }
}

#ifndef WEIR_MAX_NAMED
#define WEIR_MAX_NAMED 8
#endif

/* What one call emits: the main output, named outputs and dead letters. */
typedef struct {
  weir_batch_builder_t main;
  const char *named_names[WEIR_MAX_NAMED];
  weir_batch_builder_t named[WEIR_MAX_NAMED];
  size_t named_count;
  weir_operator_types_outputs_t wit; /* `rejected` is built in place */
  size_t rejected_cap;
} weir_output_t;

static inline void weir_output_init(weir_output_t *out) { memset(out, 0, sizeof *out); }

/* Passes `ev` on with its value replaced (key, time and headers kept). */
static inline void weir_output_emit_value(weir_output_t *out, const weir_event_t *ev,
                                   const uint8_t *value, size_t value_len) {
  weir_batch_push(&out->main, ev->has_key, ev->key, ev->key_len, value, value_len,
                  ev->timestamp);
  weir_batch_copy_headers(&out->main, ev);
}

/* Passes `ev` on unchanged. */
static inline void weir_output_emit(weir_output_t *out, const weir_event_t *ev) {
  weir_output_emit_value(out, ev, ev->value, ev->value_len);
}

/* The builder of the named output `name` (a string literal or one that outlives the
 * call, declared in the plugin's outputs); aborts past WEIR_MAX_NAMED outputs. */
static inline weir_batch_builder_t *weir_output_named(weir_output_t *out, const char *name) {
  for (size_t i = 0; i < out->named_count; i++)
    if (strcmp(out->named_names[i], name) == 0) return &out->named[i];
  if (out->named_count == WEIR_MAX_NAMED) abort();
  out->named_names[out->named_count] = name;
  return &out->named[out->named_count++];
}

/* Emits a new event to the named output `name` (NULL: the main output). */
static inline void weir_output_emit_new_to(weir_output_t *out, const char *name, bool has_key,
                                    const uint8_t *key, size_t key_len, const uint8_t *value,
                                    size_t value_len, int64_t timestamp) {
  weir_batch_builder_t *bb = name ? weir_output_named(out, name) : &out->main;
  weir_batch_push(bb, has_key, key, key_len, value, value_len, timestamp);
}

/* Sends the input event `ev` to the dead-letter output with `reason`. */
static inline void weir_output_reject(weir_output_t *out, const weir_event_t *ev, const char *reason) {
  weir_operator_types_rejection_t rejection;
  rejection.event = ev->index;
  rejection.reason.len = strlen(reason);
  rejection.reason.ptr = weir_copy(reason, rejection.reason.len);
  WEIR_PUSH(out->wit.rejected, out->rejected_cap, rejection);
}

/* Moves everything emitted into the WIT `outputs` the export returns. */
static inline void weir_output_finish(weir_output_t *out, weir_operator_types_outputs_t *ret) {
  out->wit.main = out->main.batch;
  size_t n = out->named_count;
  out->wit.named.len = n;
  out->wit.named.ptr = n ? malloc(n * sizeof *out->wit.named.ptr) : NULL;
  if (n && !out->wit.named.ptr) abort();
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(out->named_names[i]);
    out->wit.named.ptr[i].output.len = len;
    out->wit.named.ptr[i].output.ptr = weir_copy(out->named_names[i], len);
    out->wit.named.ptr[i].events = out->named[i].batch;
  }
  *ret = out->wit;
}

/* Sets a WIT error (`kind`: WEIR_OPERATOR_TYPES_ERROR_KIND_...) and returns false, the
 * bindings' way of returning `err`. */
static inline bool weir_error(weir_operator_types_error_t *err, weir_operator_types_error_kind_t kind,
                       const char *message) {
  err->kind = kind;
  err->message.len = strlen(message);
  err->message.ptr = weir_copy(message, err->message.len);
  return false;
}

/* A WIT string of a C string literal (for describe). */
#define WEIR_STRING(literal) {(uint8_t *)weir_copy(literal, sizeof(literal) - 1), sizeof(literal) - 1}

/* --- Window firings (the window worlds) ------------------------------------------- */
#ifdef WEIR_OPERATOR_WINDOWS_FIRING_KIND_LATE

/* One firing of a call's `window-firings` (laid out by column); pointers borrow it. */
typedef struct {
  bool has_key; /* none for a stream that is not keyed */
  const uint8_t *key;
  size_t key_len;
  int64_t start, end; /* the window covers event times [start, end) */
  uint8_t kind;       /* WEIR_OPERATOR_WINDOWS_FIRING_KIND_EARLY, _ON_TIME or _LATE */
  uint32_t index;     /* how many times this window fired before */
} weir_firing_t;

/* The number of firings of `firings`. */
static inline size_t weir_firings_len(const weir_operator_windows_window_firings_t *firings) {
  return firings->starts.len;
}

/* Firing `i` (below weir_firings_len) of `firings`. */
static inline weir_firing_t weir_firing_at(const weir_operator_windows_window_firings_t *firings,
                                           size_t i) {
  weir_firing_t firing = {0};
  size_t key_start = i == 0 ? 0 : firings->key_ends.ptr[i - 1];
  firing.key = firings->keys.ptr + key_start;
  firing.key_len = firings->key_ends.ptr[i] - key_start;
  firing.has_key = true;
  /* `keyless` is ascending: a binary search. */
  size_t lo = 0, hi = firings->keyless.len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (firings->keyless.ptr[mid] < i) lo = mid + 1; else hi = mid;
  }
  if (lo < firings->keyless.len && firings->keyless.ptr[lo] == i) {
    firing.has_key = false;
    firing.key_len = 0;
  }
  firing.start = firings->starts.ptr[i];
  firing.end = firings->ends.ptr[i];
  firing.kind = firings->kinds.ptr[i];
  firing.index = firings->indexes.ptr[i];
  return firing;
}

#endif

#endif
