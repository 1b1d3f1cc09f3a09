//! RocksDB options for Weir's state: small memory footprint, no write-ahead log, fast
//! point reads.
//!
//! Memory per process: one block cache shared by every instance
//! ([`BLOCK_CACHE_BYTES`]) for data blocks; per instance, at most
//! [`MAX_WRITE_BUFFERS`] memtables of [`WRITE_BUFFER_BYTES`], and the SSTs' index and
//! Bloom filter blocks (about 1.3 bytes per key). State for a million keys therefore
//! needs tens of MiB, not GiB; the rest is on disk and in the page cache.

use std::sync::OnceLock;

use ::rocksdb::{BlockBasedOptions, Cache, DBCompressionType, Options, WriteOptions};

/// Capacity of the block cache every instance of the process shares.
pub const BLOCK_CACHE_BYTES: usize = 64 << 20;
/// Size of one memtable.
pub const WRITE_BUFFER_BYTES: usize = 16 << 20;
/// Memtables per instance (one being filled, one being flushed).
pub const MAX_WRITE_BUFFERS: i32 = 2;

/// The block cache of the process, created on first use (`None` if RocksDB could not
/// create it: each instance then has RocksDB's default 8 MiB cache).
fn shared_block_cache() -> Option<&'static Cache> {
    static CACHE: OnceLock<Option<Cache>> = OnceLock::new();
    CACHE
        .get_or_init(|| Cache::new_lru_cache(BLOCK_CACHE_BYTES).ok())
        .as_ref()
}

/// Options to open an instance; `create` says whether a missing database may be
/// created (a fresh backend) or must exist (a restore).
pub(super) fn db_options(create: bool) -> Options {
    let mut table = BlockBasedOptions::default();
    if let Some(cache) = shared_block_cache() {
        table.set_block_cache(cache);
    }
    // Index and filter blocks stay with their table readers (about 1.3 bytes per key),
    // not in the block cache: a 1 M-key SST's filter is larger than one shard of a
    // sharded 64 MiB cache, so it would be read from the file on every lookup.
    table.set_cache_index_and_filter_blocks(false);
    // Value state is read by point lookups: a Bloom filter skips SSTs without the key.
    table.set_bloom_filter(10.0, false);

    let mut options = Options::default();
    options.create_if_missing(create);
    options.set_paranoid_checks(true);
    options.set_block_based_table_factory(&table);
    options.set_write_buffer_size(WRITE_BUFFER_BYTES);
    options.set_max_write_buffer_number(MAX_WRITE_BUFFERS);
    options.set_compression_type(DBCompressionType::Lz4);
    options.set_bottommost_compression_type(DBCompressionType::Lz4);
    options.set_level_compaction_dynamic_level_bytes(true);
    options.set_max_background_jobs(2);
    options.set_keep_log_file_num(2);
    options.set_max_log_file_size(1 << 20);
    options
}

/// Options for every write: no write-ahead log (see the module docs of
/// [`rocksdb`](super)).
pub(super) fn write_options() -> WriteOptions {
    let mut options = WriteOptions::default();
    options.disable_wal(true);
    options
}
