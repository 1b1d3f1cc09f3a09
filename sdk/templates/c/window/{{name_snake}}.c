/* {{name}}: a Weir window process function in C (world window-process).
 * For each window that fires, emits {"key", "start", "end", "events", "first", "last"}:
 * the number of events and the first and last event times, keyed by the window's key
 * at its last millisecond. Build: `weir build`; test: `weir test`. */
#include "window_process.h"
#include "weir.h"
#include "weir_json.h"

void exports_weir_operator_window_processor_describe(weir_operator_types_plugin_info_t *ret) {
  ret->name = (window_process_string_t)WEIR_STRING("{{name}}");
  ret->version = (window_process_string_t)WEIR_STRING("0.1.0");
  ret->outputs.ptr = NULL;
  ret->outputs.len = 0;
}

bool exports_weir_operator_window_processor_init(window_process_string_t *settings,
                                                 weir_operator_types_error_t *err) {
  (void)err;
  window_process_string_free(settings);
  return true;
}

bool exports_weir_operator_window_processor_process(
    exports_weir_operator_window_processor_window_firings_t *firings,
    window_process_list_u32_t *event_ends, weir_operator_types_batch_t *events,
    weir_operator_types_outputs_t *ret, weir_operator_types_error_t *err) {
  (void)err;
  weir_output_t out;
  weir_output_init(&out);
  weir_buf_t json = {0};
  uint32_t start = 0;
  for (size_t i = 0; i < weir_firings_len(firings) && i < event_ends->len; i++) {
    weir_firing_t firing = weir_firing_at(firings, i);
    uint32_t end = event_ends->ptr[i];
    json.len = 0;
    weir_buf_str(&json, "{\"key\":");
    weir_json_write_string(&json, firing.key, firing.key_len);
    weir_buf_str(&json, ",\"start\":");
    weir_json_write_i64(&json, firing.start);
    weir_buf_str(&json, ",\"end\":");
    weir_json_write_i64(&json, firing.end);
    weir_buf_str(&json, ",\"events\":");
    weir_json_write_i64(&json, (int64_t)(end - start));
    /* The window's events are in timestamp order: the first and the last. */
    weir_buf_str(&json, ",\"first\":");
    if (end > start) weir_json_write_i64(&json, events->timestamps.ptr[start]);
    else weir_buf_str(&json, "null");
    weir_buf_str(&json, ",\"last\":");
    if (end > start) weir_json_write_i64(&json, events->timestamps.ptr[end - 1]);
    else weir_buf_str(&json, "null");
    weir_buf_str(&json, "}");
    weir_output_emit_new_to(&out, NULL, firing.has_key, firing.key, firing.key_len, json.ptr,
                            json.len, firing.end - 1);
    start = end;
  }
  free(json.ptr);
  weir_output_finish(&out, ret);
  exports_weir_operator_window_processor_window_firings_free(firings);
  window_process_list_u32_free(event_ends);
  weir_operator_types_batch_free(events);
  return true;
}
