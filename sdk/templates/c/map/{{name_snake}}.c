/* {{name}}: a Weir map operator in C (world stateless-processor).
 * Passes on JSON objects that have a string `user`, adding "checked":true; anything
 * else goes to the dead-letter output. Build: `weir build`; test: `weir test`. */
#include "stateless_processor.h"
#include "weir.h"
#include "weir_json.h"

void exports_weir_operator_processor_describe(weir_operator_types_plugin_info_t *ret) {
  ret->name = (stateless_processor_string_t)WEIR_STRING("{{name}}");
  ret->version = (stateless_processor_string_t)WEIR_STRING("0.1.0");
  ret->outputs.ptr = NULL;
  ret->outputs.len = 0;
}

bool exports_weir_operator_processor_init(stateless_processor_string_t *settings,
                                          weir_operator_types_error_t *err) {
  (void)err;
  stateless_processor_string_free(settings);
  return true;
}

bool exports_weir_operator_processor_process(weir_operator_types_batch_t *batch,
                                             weir_operator_types_outputs_t *ret,
                                             weir_operator_types_error_t *err) {
  (void)err;
  weir_output_t out;
  weir_output_init(&out);
  weir_buf_t json = {0};
  weir_events_t it;
  weir_event_t ev;
  weir_events_begin(&it, batch);
  while (weir_events_next(&it, &ev)) {
    weir_json_field_t user;
    if (weir_json_get(ev.value, ev.value_len, "user", &user) != 1 || user.type != WEIR_JSON_STRING) {
      weir_output_reject(&out, &ev, "expected a JSON object with a string `user`");
      continue;
    }
    /* The object minus its closing brace, then the new field. */
    size_t end = ev.value_len;
    while (end > 0 && ev.value[end - 1] != '}') end--;
    json.len = 0;
    weir_buf_put(&json, ev.value, end - 1);
    weir_buf_str(&json, ",\"checked\":true}");
    weir_output_emit_value(&out, &ev, json.ptr, json.len);
  }
  free(json.ptr);
  weir_output_finish(&out, ret);
  weir_operator_types_batch_free(batch);
  return true;
}
