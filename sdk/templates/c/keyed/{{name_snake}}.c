/* {{name}}: a Weir keyed process function in C (world keyed-process).
 * Counts the events of each key in host state (`count`, a little-endian u64) and
 * emits {"key": ..., "count": n} for every event. Build: `weir build`; test: `weir test`. */
#include "keyed_process.h"
#include "weir.h"
#include "weir_json.h"
#include "weir_keyed.h"

static weir_operator_state_state_id_t count_state;

void exports_weir_operator_keyed_processor_describe(weir_operator_types_plugin_info_t *ret) {
  ret->name = (keyed_process_string_t)WEIR_STRING("{{name}}");
  ret->version = (keyed_process_string_t)WEIR_STRING("0.1.0");
  ret->outputs.ptr = NULL;
  ret->outputs.len = 0;
}

bool exports_weir_operator_keyed_processor_init(keyed_process_string_t *settings,
                                                weir_operator_types_error_t *err) {
  keyed_process_string_free(settings);
  return weir_declare_value(err, "count", &count_state);
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
    uint64_t count = 0; /* wasm32 is little-endian: the bytes are the number */
    long len;
    if (!(ok = weir_state_get(err, count_state, ev.index, (uint8_t *)&count, sizeof count, &len)))
      break;
    count += 1;
    ok = weir_state_set(err, count_state, ev.index, (const uint8_t *)&count, sizeof count);
    json.len = 0;
    weir_buf_str(&json, "{\"key\":");
    weir_json_write_string(&json, ev.key, ev.has_key ? ev.key_len : 0);
    weir_buf_str(&json, ",\"count\":");
    weir_json_write_i64(&json, (int64_t)count);
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
  (void)err;
  weir_output_t out;
  weir_output_init(&out);
  exports_weir_operator_keyed_processor_list_fired_timer_free(timers);
  weir_output_finish(&out, ret);
  return true;
}
