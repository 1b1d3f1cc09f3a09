/* `xlang-keyed` in C: the same keyed aggregate as plugins/xlang-keyed (Rust; its docs
 * are the specification): running count and sum of `amount` per key, and per
 * `bucket_ms` bucket a timer that emits the bucket's totals to `totals` and clears
 * them. The state `totals` is 16 bytes, count and sum as little-endian i64.
 * Build: scripts/build-lang-plugins (zig cc, wasm-componentize, world keyed-process). */
#include "keyed_process.h"
#include "weir.h"
#include "weir_json.h"
#include "weir_keyed.h"

static const char REASON[] = "expected a JSON object with an integer `amount` from 0 to 2^53-1";
static const uint64_t MAX_AMOUNT = (1ULL << 53) - 1;

static int64_t bucket_ms = 10000;
static weir_operator_state_state_id_t totals;

void exports_weir_operator_keyed_processor_describe(weir_operator_types_plugin_info_t *ret) {
  ret->name = (keyed_process_string_t)WEIR_STRING("xlang-keyed");
  ret->version = (keyed_process_string_t)WEIR_STRING("0.1.0");
  ret->outputs.len = 1;
  ret->outputs.ptr = malloc(sizeof *ret->outputs.ptr);
  if (!ret->outputs.ptr) abort();
  ret->outputs.ptr[0] = (keyed_process_string_t)WEIR_STRING("totals");
}

bool exports_weir_operator_keyed_processor_init(keyed_process_string_t *settings,
                                                weir_operator_types_error_t *err) {
  weir_json_field_t field;
  uint64_t bucket = 10000;
  int found = weir_json_get(settings->ptr, settings->len, "bucket_ms", &field);
  bool ok = found == 0 || (found == 1 && weir_json_uint(&field, INT64_MAX, &bucket) && bucket >= 1);
  keyed_process_string_free(settings);
  if (!ok)
    return weir_error(err, WEIR_OPERATOR_TYPES_ERROR_KIND_INVALID_CONFIG,
                      "settings: `bucket_ms` must be at least 1");
  bucket_ms = (int64_t)bucket;
  return weir_declare_value(err, "totals", &totals);
}

/* The scope's count and sum (0 and 0 when absent); false when the state call failed. */
static bool read_totals(weir_operator_types_error_t *err, uint32_t scope, int64_t *count,
                        int64_t *sum) {
  uint8_t bytes[16];
  long len;
  *count = *sum = 0;
  if (!weir_state_get(err, totals, scope, bytes, sizeof bytes, &len)) return false;
  if (len == -1) return true;
  if (len != sizeof bytes)
    return weir_error(err, WEIR_OPERATOR_TYPES_ERROR_KIND_INTERNAL, "state `totals` is not 16 bytes");
  memcpy(count, bytes, 8); /* wasm32 is little-endian */
  memcpy(sum, bytes + 8, 8);
  return true;
}

bool exports_weir_operator_keyed_processor_process(weir_operator_types_batch_t *batch,
                                                   weir_operator_types_outputs_t *ret,
                                                   weir_operator_types_error_t *err) {
  weir_output_t out;
  weir_output_init(&out);
  weir_buf_t json = {0};
  weir_events_t it;
  weir_event_t ev;
  bool ok = true;
  weir_events_begin(&it, batch);
  while (ok && weir_events_next(&it, &ev)) {
    weir_json_field_t field;
    uint64_t amount;
    if (weir_json_get(ev.value, ev.value_len, "amount", &field) != 1 ||
        !weir_json_uint(&field, MAX_AMOUNT, &amount)) {
      weir_output_reject(&out, &ev, REASON);
      continue;
    }
    int64_t count, sum;
    if (!(ok = read_totals(err, ev.index, &count, &sum))) break;
    count += 1;
    sum = sum > INT64_MAX - (int64_t)amount ? INT64_MAX : sum + (int64_t)amount;
    uint8_t bytes[16];
    memcpy(bytes, &count, 8);
    memcpy(bytes + 8, &sum, 8);
    int64_t offset = ((ev.timestamp % bucket_ms) + bucket_ms) % bucket_ms;
    ok = weir_state_set(err, totals, ev.index, bytes, sizeof bytes) &&
         weir_register_event_timer(err, ev.index, ev.timestamp - offset + bucket_ms);
    json.len = 0;
    weir_buf_str(&json, "{\"key\":");
    weir_json_write_string(&json, ev.key, ev.has_key ? ev.key_len : 0);
    weir_buf_str(&json, ",\"count\":");
    weir_json_write_i64(&json, count);
    weir_buf_str(&json, ",\"sum\":");
    weir_json_write_i64(&json, sum);
    weir_buf_str(&json, "}");
    weir_output_emit_value(&out, &ev, json.ptr, json.len);
  }
  free(json.ptr);
  weir_output_finish(&out, ret);
  weir_operator_types_batch_free(batch);
  return ok;
}

bool exports_weir_operator_keyed_processor_on_timer(
    exports_weir_operator_keyed_processor_list_fired_timer_t *timers,
    weir_operator_types_outputs_t *ret, weir_operator_types_error_t *err) {
  weir_output_t out;
  weir_output_init(&out);
  weir_buf_t json = {0};
  bool ok = true;
  for (uint32_t scope = 0; ok && scope < timers->len; scope++) {
    const exports_weir_operator_keyed_processor_fired_timer_t *timer = &timers->ptr[scope];
    int64_t count, sum;
    if (!(ok = read_totals(err, scope, &count, &sum))) break;
    ok = weir_state_clear(err, totals, scope);
    json.len = 0;
    weir_buf_str(&json, "{\"key\":");
    weir_json_write_string(&json, timer->key.ptr, timer->key.len);
    weir_buf_str(&json, ",\"bucket_end\":");
    weir_json_write_i64(&json, timer->at);
    weir_buf_str(&json, ",\"count\":");
    weir_json_write_i64(&json, count);
    weir_buf_str(&json, ",\"sum\":");
    weir_json_write_i64(&json, sum);
    weir_buf_str(&json, "}");
    weir_output_emit_new_to(&out, "totals", true, timer->key.ptr, timer->key.len, json.ptr,
                            json.len, timer->at);
  }
  free(json.ptr);
  weir_output_finish(&out, ret);
  exports_weir_operator_keyed_processor_list_fired_timer_free(timers);
  return ok;
}
