/* Packed accumulators for C plugins of the world window-aggregate (part of Weir's C
 * SDK; include "window_aggregate.h" and "weir.h" first). The host hands `add`, `merge`
 * and `finish` many accumulators in one `packed-bytes` (item i is
 * bytes[ends[i-1] .. ends[i]]; an empty item is a fresh accumulator) and takes the
 * results back the same way: read with weir_packed_item, build with weir_packed_push
 * and return the builder's `packed`.
 */
#ifndef WEIR_AGGREGATE_H
#define WEIR_AGGREGATE_H

/* Item `i` of `packed` (the host checked that `ends` is non-decreasing and in range). */
static inline const uint8_t *weir_packed_item(const weir_operator_types_packed_bytes_t *packed,
                                              size_t i, size_t *len) {
  uint32_t start = i ? packed->ends.ptr[i - 1] : 0;
  *len = packed->ends.ptr[i] - start;
  return packed->bytes.ptr + start;
}

/* Packed bytes being built. */
typedef struct {
  weir_operator_types_packed_bytes_t packed;
  size_t bytes_cap, ends_cap;
} weir_packed_builder_t;

/* Appends one item. */
static inline void weir_packed_push(weir_packed_builder_t *pb, const void *bytes, size_t len) {
  weir_append(&pb->packed.bytes.ptr, &pb->packed.bytes.len, &pb->bytes_cap, bytes, len);
  WEIR_PUSH(pb->packed.ends, pb->ends_cap, (uint32_t)pb->packed.bytes.len);
}

#endif
