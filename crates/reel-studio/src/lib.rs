//! The local web studio: an HTTP API on loopback and the page that uses it, over `reel-jobs`.
//! Nothing is built here yet: this crate fixes where the studio goes, above the jobs crate and
//! beside the command line, never calling it.
