//! `reel bench ...`: the benchmarks of `reel-bench`.

use crate::BenchCommand;
use crate::failure::{Failure, Result};

pub fn run(command: BenchCommand) -> Result {
    match command {
        BenchCommand::Faces(args) => reel_bench::faces(&args),
        BenchCommand::Retouch(args) => reel_bench::retouch(&args),
        BenchCommand::Train(args) => reel_bench::train(&args),
        BenchCommand::Transcribe(args) => reel_bench::transcribe(&args),
        BenchCommand::Style(args) => reel_bench::style(&args),
        BenchCommand::Watermark(args) => reel_bench::watermark(&args),
        BenchCommand::Gen(args) => reel_bench::generation(&args),
        BenchCommand::Retime(args) => reel_bench::retime(&args),
        BenchCommand::Studio(args) => reel_bench::studio(&args),
    }
    .map_err(Failure::from_bench)
}
