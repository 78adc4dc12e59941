pub fn faces(_a: &BenchFacesArgs, _q: bool) -> anyhow::Result<()> {
    Ok(())
}
#[derive(clap::Args)]
pub struct BenchFacesArgs {}
