//! The job queue and store: jobs and media kept in SQLite under reel's data directory
//! (`reel_core::dirs::data_dir`), run one at a time (or by a set number of workers) through the
//! same library calls and processor registry as the command line. Nothing is built here yet:
//! this crate fixes where the queue goes, below the studio and beside the command line.
