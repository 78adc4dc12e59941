//! The face mesh's triangles, for mapping a face's texture onto another face point by point.
//! MediaPipe ships the mesh's edges with its Python solution; the triangles are the edge triples
//! that close (three landmarks all joined to each other).

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use reel_assets::catalogue::MESH_TOPOLOGY;
use reel_runtime::ModelError;

static TRIANGLES: OnceLock<Result<Vec<[usize; 3]>, String>> = OnceLock::new();

/// The mesh's triangles (landmark indices), read once from the installed topology file.
pub fn triangles() -> Result<&'static [[usize; 3]], ModelError> {
    TRIANGLES
        .get_or_init(|| {
            let path = reel_assets::models_dir().join(MESH_TOPOLOGY.file);
            let bytes = reel_assets::install::read_verified(&path, MESH_TOPOLOGY.sha256)
                .map_err(|e| e.to_string())?;
            parse(&String::from_utf8_lossy(&bytes))
        })
        .as_deref()
        .map_err(|e| ModelError::Format(e.clone().into()))
}

fn parse(text: &str) -> Result<Vec<[usize; 3]>, String> {
    let start = text
        .find("FACEMESH_TESSELATION")
        .ok_or("no tessellation in the topology file")?;
    let body = &text[start..];
    let end = body.find("])").ok_or("unterminated tessellation")?;
    let mut edges = Vec::new();
    for pair in body[..end].split('(').skip(1) {
        let inside = pair.split(')').next().unwrap_or("");
        let mut nums = inside
            .split(',')
            .filter_map(|n| n.trim().parse::<usize>().ok());
        if let (Some(a), Some(b)) = (nums.next(), nums.next()) {
            edges.push((a, b));
        }
    }
    if edges.len() < 1000 {
        return Err(format!("only {} mesh edges found", edges.len()));
    }
    let mut adjacent: HashMap<usize, BTreeSet<usize>> = HashMap::new();
    for &(a, b) in &edges {
        adjacent.entry(a).or_default().insert(b);
        adjacent.entry(b).or_default().insert(a);
    }
    let mut triangles = BTreeSet::new();
    for &(a, b) in &edges {
        for &c in adjacent[&a].intersection(&adjacent[&b]) {
            let mut t = [a, b, c];
            t.sort_unstable();
            triangles.insert(t);
        }
    }
    Ok(triangles.into_iter().collect())
}
