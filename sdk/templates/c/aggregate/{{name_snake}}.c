/* {{name}}: a Weir window aggregate in C (world window-aggregate).
 * Count and sum of the non-negative integer field `amount` per key and window; each
 * firing emits {"key", "start", "end", "count", "sum"}. The accumulator is 16 bytes:
 * count and sum as little-endian int64. Build: `weir build`; test: `weir test`. */
#include "window_aggregate.h"
#include "weir.h"
#include "weir_aggregate.h"
#include "weir_json.h"

typedef struct {
  int64_t count, sum;
} acc_t;

/* Accumulator `i` of `packed` (zero for a fresh, empty one). */
static acc_t read_acc(const weir_operator_types_packed_bytes_t *packed, size_t i) {
  acc_t acc = {0, 0};
  size_t len;
  const uint8_t *bytes = weir_packed_item(packed, i, &len);
  if (len == sizeof acc) memcpy(&acc, bytes, sizeof acc); /* wasm32 is little-endian */
  return acc;
}

void exports_weir_operator_aggregator_describe(weir_operator_types_plugin_info_t *ret) {
  ret->name = (window_aggregate_string_t)WEIR_STRING("{{name}}");
  ret->version = (window_aggregate_string_t)WEIR_STRING("0.1.0");
  ret->outputs.ptr = NULL;
  ret->outputs.len = 0;
}

bool exports_weir_operator_aggregator_init(window_aggregate_string_t *settings,
                                           weir_operator_types_error_t *err) {
  (void)err;
  window_aggregate_string_free(settings);
  return true;
}

bool exports_weir_operator_aggregator_add(weir_operator_types_packed_bytes_t *accumulators,
                                          weir_operator_types_batch_t *events,
                                          window_aggregate_list_u32_t *targets,
                                          weir_operator_types_packed_bytes_t *ret,
                                          weir_operator_types_error_t *err) {
  size_t n = accumulators->ends.len;
  acc_t *accs = calloc(n ? n : 1, sizeof *accs);
  if (!accs) abort();
  for (size_t i = 0; i < n; i++) accs[i] = read_acc(accumulators, i);
  bool ok = true;
  weir_events_t it;
  weir_event_t ev;
  weir_events_begin(&it, events);
  while (weir_events_next(&it, &ev)) {
    weir_json_field_t field;
    uint64_t amount;
    if (weir_json_get(ev.value, ev.value_len, "amount", &field) != 1 ||
        !weir_json_uint(&field, (1ULL << 53) - 1, &amount)) {
      ok = weir_error(err, WEIR_OPERATOR_TYPES_ERROR_KIND_INVALID_INPUT,
                      "expected a JSON object with an integer `amount`");
      break;
    }
    acc_t *acc = &accs[targets->ptr[ev.index]];
    acc->count += 1;
    acc->sum += (int64_t)amount;
  }
  weir_packed_builder_t out = {0};
  for (size_t i = 0; ok && i < n; i++) weir_packed_push(&out, &accs[i], sizeof accs[i]);
  free(accs);
  weir_operator_types_packed_bytes_free(accumulators);
  weir_operator_types_batch_free(events);
  window_aggregate_list_u32_free(targets);
  if (ok) *ret = out.packed;
  return ok;
}

bool exports_weir_operator_aggregator_merge(weir_operator_types_packed_bytes_t *inputs,
                                            window_aggregate_list_u32_t *group_ends,
                                            weir_operator_types_packed_bytes_t *ret,
                                            weir_operator_types_error_t *err) {
  (void)err;
  weir_packed_builder_t out = {0};
  size_t start = 0;
  for (size_t g = 0; g < group_ends->len; g++) {
    acc_t merged = {0, 0};
    for (; start < group_ends->ptr[g]; start++) {
      acc_t acc = read_acc(inputs, start);
      merged.count += acc.count;
      merged.sum += acc.sum;
    }
    weir_packed_push(&out, &merged, sizeof merged);
  }
  weir_operator_types_packed_bytes_free(inputs);
  window_aggregate_list_u32_free(group_ends);
  *ret = out.packed;
  return true;
}

bool exports_weir_operator_aggregator_finish(
    weir_operator_types_packed_bytes_t *accumulators,
    exports_weir_operator_aggregator_window_firings_t *firings,
    weir_operator_types_packed_bytes_t *ret, weir_operator_types_error_t *err) {
  (void)err;
  weir_packed_builder_t out = {0};
  weir_buf_t json = {0};
  for (size_t i = 0; i < accumulators->ends.len && i < weir_firings_len(firings); i++) {
    acc_t acc = read_acc(accumulators, i);
    weir_firing_t firing = weir_firing_at(firings, i);
    json.len = 0;
    weir_buf_str(&json, "{\"key\":");
    weir_json_write_string(&json, firing.key, firing.key_len);
    weir_buf_str(&json, ",\"start\":");
    weir_json_write_i64(&json, firing.start);
    weir_buf_str(&json, ",\"end\":");
    weir_json_write_i64(&json, firing.end);
    weir_buf_str(&json, ",\"count\":");
    weir_json_write_i64(&json, acc.count);
    weir_buf_str(&json, ",\"sum\":");
    weir_json_write_i64(&json, acc.sum);
    weir_buf_str(&json, "}");
    weir_packed_push(&out, json.ptr, json.len);
  }
  free(json.ptr);
  weir_operator_types_packed_bytes_free(accumulators);
  exports_weir_operator_aggregator_window_firings_free(firings);
  *ret = out.packed;
  return true;
}
