/* Keyed state and timers for C plugins of the world keyed-process (part of Weir's C
 * SDK; include "keyed_process.h" and "weir.h" first). Each helper wraps one binding
 * call; those that can fail set the WIT error of the call and return false, so a
 * plugin can `return` it from an export (the host then rolls the call back and re-runs
 * the batch event by event). A scope is what the export defines: in `process` the
 * index of the event, in `on_timer` the index of the timer.
 */
#ifndef WEIR_KEYED_H
#define WEIR_KEYED_H

/* The WIT error of a failed state call, with the state-error's case in the message. */
static inline bool weir_state_failed(weir_operator_types_error_t *err,
                              weir_operator_state_state_error_t *state_error) {
  static const char *const cases[] = {
      "declare outside init", "conflicting declaration", "unknown state", "wrong kind",
      "no such scope",        "too large",               "backend",
  };
  const char *name = state_error->tag < 7 ? cases[state_error->tag] : "unknown";
  char message[96];
  snprintf(message, sizeof message, "state call failed: %s", name);
  weir_operator_state_state_error_free(state_error);
  return weir_error(err, WEIR_OPERATOR_TYPES_ERROR_KIND_INTERNAL, message);
}

/* Declares the value state `name` (in init) into `id`. */
static inline bool weir_declare_value(weir_operator_types_error_t *err, const char *name,
                               weir_operator_state_state_id_t *id) {
  weir_operator_state_state_spec_t spec;
  memset(&spec, 0, sizeof spec);
  keyed_process_string_set(&spec.name, name);
  spec.kind = WEIR_OPERATOR_STATE_STATE_KIND_VALUE;
  weir_operator_state_state_error_t state_error;
  if (!weir_operator_state_declare(&spec, id, &state_error))
    return weir_state_failed(err, &state_error);
  return true;
}

/* Reads a value state into `buf` (up to `cap` bytes); `*len` is its full length, or -1
 * when it is absent. */
static inline bool weir_state_get(weir_operator_types_error_t *err,
                                  weir_operator_state_state_id_t id, uint32_t scope,
                                  uint8_t *buf, size_t cap, long *len) {
  keyed_process_option_list_u8_t value;
  weir_operator_state_state_error_t state_error;
  if (!weir_operator_state_get(id, scope, &value, &state_error))
    return weir_state_failed(err, &state_error);
  *len = -1;
  if (!value.is_some) return true;
  *len = (long)value.val.len;
  memcpy(buf, value.val.ptr, value.val.len < cap ? value.val.len : cap);
  keyed_process_list_u8_free(&value.val);
  return true;
}

/* Sets a value state to a copy of `bytes`. */
static inline bool weir_state_set(weir_operator_types_error_t *err, weir_operator_state_state_id_t id,
                           uint32_t scope, const uint8_t *bytes, size_t len) {
  keyed_process_list_u8_t value = {(uint8_t *)bytes, len};
  weir_operator_state_state_error_t state_error;
  if (!weir_operator_state_set(id, scope, &value, &state_error))
    return weir_state_failed(err, &state_error);
  return true;
}

/* Removes what a state holds for the scope. */
static inline bool weir_state_clear(weir_operator_types_error_t *err,
                             weir_operator_state_state_id_t id, uint32_t scope) {
  weir_operator_state_state_error_t state_error;
  if (!weir_operator_state_clear(id, scope, &state_error))
    return weir_state_failed(err, &state_error);
  return true;
}

/* Registers an event-time timer for the scope's key at `at`. */
static inline bool weir_register_event_timer(weir_operator_types_error_t *err, uint32_t scope,
                                      int64_t at) {
  weir_operator_timers_state_error_t state_error;
  if (!weir_operator_timers_register(scope, WEIR_OPERATOR_TIMERS_TIME_DOMAIN_EVENT_TIME, at,
                                     &state_error))
    return weir_state_failed(err, &state_error);
  return true;
}

#endif
