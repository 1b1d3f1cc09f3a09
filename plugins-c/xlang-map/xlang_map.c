/* `xlang-map` in C: the same operator as plugins/xlang-map (Rust; its docs are the
 * specification): {"user","amount"} becomes {"user","amount","fee","total"} with
 * fee = amount * fee_percent / 100 rounded down; anything else is dead-lettered.
 * Build: scripts/build-lang-plugins (zig cc, wasm-componentize, world stateless-processor). */
#include "stateless_processor.h"
#include "weir.h"
#include "weir_json.h"

static const char REASON[] =
    "expected a JSON object with a string `user` and an integer `amount` from 0 to 2^53-1";
static const uint64_t MAX_AMOUNT = (1ULL << 53) - 1;

static uint64_t fee_percent = 3;

void exports_weir_operator_processor_describe(weir_operator_types_plugin_info_t *ret) {
  ret->name = (stateless_processor_string_t)WEIR_STRING("xlang-map");
  ret->version = (stateless_processor_string_t)WEIR_STRING("0.1.0");
  ret->outputs.ptr = NULL;
  ret->outputs.len = 0;
}

bool exports_weir_operator_processor_init(stateless_processor_string_t *settings,
                                          weir_operator_types_error_t *err) {
  weir_json_field_t percent;
  int found = weir_json_get(settings->ptr, settings->len, "fee_percent", &percent);
  bool ok = found == 0 || (found == 1 && weir_json_uint(&percent, 100, &fee_percent));
  if (found == 0) fee_percent = 3;
  stateless_processor_string_free(settings);
  if (!ok)
    return weir_error(err, WEIR_OPERATOR_TYPES_ERROR_KIND_INVALID_CONFIG,
                      "`fee_percent` must be from 0 to 100");
  return true;
}

bool exports_weir_operator_processor_process(weir_operator_types_batch_t *batch,
                                             weir_operator_types_outputs_t *ret,
                                             weir_operator_types_error_t *err) {
  (void)err;
  weir_output_t out;
  weir_output_init(&out);
  weir_buf_t json = {0};
  uint8_t *user = NULL;
  size_t user_cap = 0;
  weir_events_t it;
  weir_event_t ev;
  weir_events_begin(&it, batch);
  while (weir_events_next(&it, &ev)) {
    weir_json_field_t user_field, amount_field;
    uint64_t amount;
    if (weir_json_get(ev.value, ev.value_len, "user", &user_field) != 1 ||
        user_field.type != WEIR_JSON_STRING ||
        weir_json_get(ev.value, ev.value_len, "amount", &amount_field) != 1 ||
        !weir_json_uint(&amount_field, MAX_AMOUNT, &amount)) {
      weir_output_reject(&out, &ev, REASON);
      continue;
    }
    weir_reserve((void **)&user, &user_cap, user_field.len, 1);
    size_t user_len = weir_json_unescape(&user_field, user);
    uint64_t fee = amount * fee_percent / 100;
    json.len = 0;
    weir_buf_str(&json, "{\"user\":");
    weir_json_write_string(&json, user, user_len);
    weir_buf_str(&json, ",\"amount\":");
    weir_json_write_i64(&json, (int64_t)amount);
    weir_buf_str(&json, ",\"fee\":");
    weir_json_write_i64(&json, (int64_t)fee);
    weir_buf_str(&json, ",\"total\":");
    weir_json_write_i64(&json, (int64_t)(amount + fee));
    weir_buf_str(&json, "}");
    weir_output_emit_value(&out, &ev, json.ptr, json.len);
  }
  free(json.ptr);
  free(user);
  weir_output_finish(&out, ret);
  weir_operator_types_batch_free(batch);
  return true;
}
