//! The tile: 32 x 32 chips, each carrying a fixed synchronisation sign plus one coded payload
//! bit (every bit on five or six chips scattered over the tile). The same tile repeats over the
//! whole frame, which is what lets a reader find its period (the scale) and its phase (the crop).

use crate::code::CODED_BITS;

/// Chips along each side of the tile.
pub const TILE: usize = 32;
pub const CHIPS: usize = TILE * TILE;
/// Share of the pattern's amplitude given to synchronisation and to data (their squares sum to
/// 1). The payload fails before the sync does, so the sync gets 16 % of the power: enough to
/// stand clear of the search's noise peaks where the payload can still be read.
pub const SYNC_WEIGHT: f32 = 0.4;
pub const DATA_WEIGHT: f32 = 0.916_515_1;

/// A fixed pseudo-random sequence (splitmix64): the pattern is public, like a barcode's.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn sign(&mut self) -> f32 {
        if self.next() & 1 == 1 { 1.0 } else { -1.0 }
    }
}

/// The fixed layout: sync signs, and for every chip the coded bit it carries and that bit's sign.
pub struct Layout {
    pub sync: [f32; CHIPS],
    pub bit: [u16; CHIPS],
    pub key: [f32; CHIPS],
}

impl Layout {
    pub fn new() -> Layout {
        let mut seq = Sequence(0x7265_656C_2D77_6D31); // "reel-wm1"
        let mut sync = [0f32; CHIPS];
        for s in sync.iter_mut() {
            *s = seq.sign();
        }
        let mut bit = [0u16; CHIPS];
        for (i, b) in bit.iter_mut().enumerate() {
            *b = (i % CODED_BITS) as u16;
        }
        for i in (1..CHIPS).rev() {
            let j = (seq.next() % (i as u64 + 1)) as usize;
            bit.swap(i, j);
        }
        let mut key = [0f32; CHIPS];
        for k in key.iter_mut() {
            *k = seq.sign();
        }
        Layout { sync, bit, key }
    }

    /// Every chip's value for a coded payload.
    pub fn chips(&self, coded: &[u8; CODED_BITS]) -> [f32; CHIPS] {
        let mut out = [0f32; CHIPS];
        for (i, v) in out.iter_mut().enumerate() {
            let data = if coded[self.bit[i] as usize] == 1 {
                1.0
            } else {
                -1.0
            };
            *v = SYNC_WEIGHT * self.sync[i] + DATA_WEIGHT * self.key[i] * data;
        }
        out
    }
}

impl Default for Layout {
    fn default() -> Self {
        Layout::new()
    }
}

/// A chip's profile across its width: a half sine, smooth at the chip's borders so that the
/// pattern has no block edges for a codec to smear or an eye to catch.
pub fn bump(position: f32) -> f32 {
    (std::f32::consts::PI * position).sin()
}

/// The tile drawn `period` pixels square (chips of `period / TILE` pixels, not always whole),
/// unit RMS.
pub fn render(chips: &[f32; CHIPS], period: usize) -> Vec<f32> {
    let chip = period as f32 / TILE as f32;
    // Which chip each pixel position falls in, and where inside it.
    let place: Vec<(usize, f32)> = (0..period)
        .map(|i| {
            let at = (i as f32 + 0.5) / chip;
            ((at as usize).min(TILE - 1), bump(at.fract()))
        })
        .collect();
    let mut tile = vec![0f32; period * period];
    for (y, &(cy, py)) in place.iter().enumerate() {
        for (x, &(cx, px)) in place.iter().enumerate() {
            tile[y * period + x] = chips[cy * TILE + cx] * py * px;
        }
    }
    let rms = (tile.iter().map(|v| v * v).sum::<f32>() / tile.len() as f32).sqrt();
    for v in tile.iter_mut() {
        *v /= rms.max(1e-6);
    }
    tile
}
