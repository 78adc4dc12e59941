//! The payload's error protection: a CRC-32 that tells a real payload from noise, and a rate-1/2
//! convolutional code (constraint length 7, the 171/133 pair) decoded by soft-decision Viterbi.

/// Payload bits, CRC bits, and the coded length the pattern carries.
pub const PAYLOAD_BITS: usize = 64;
pub const CRC_BITS: usize = 32;
const INFO_BITS: usize = PAYLOAD_BITS + CRC_BITS;
const MEMORY: usize = 6;
pub const CODED_BITS: usize = 2 * (INFO_BITS + MEMORY);
const POLYS: [u32; 2] = [0o171, 0o133];
const STATES: usize = 1 << MEMORY;

/// CRC-32 (IEEE, reflected) of the payload's eight bytes.
pub fn crc32(payload: u64) -> u32 {
    crc32_bytes(&payload.to_le_bytes())
}

fn crc32_bytes(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn info_bits(payload: u64) -> [u8; INFO_BITS] {
    let crc = crc32(payload);
    let mut bits = [0u8; INFO_BITS];
    for (i, bit) in bits.iter_mut().enumerate() {
        *bit = if i < PAYLOAD_BITS {
            (payload >> i) as u8 & 1
        } else {
            (crc >> (i - PAYLOAD_BITS)) as u8 & 1
        };
    }
    bits
}

fn outputs(state: usize, input: u8) -> [u8; 2] {
    // The register holds the newest bit in its top position.
    let reg = ((input as u32) << MEMORY) | state as u32;
    POLYS.map(|p| ((reg & p).count_ones() & 1) as u8)
}

fn next_state(state: usize, input: u8) -> usize {
    ((input as usize) << (MEMORY - 1)) | (state >> 1)
}

/// The coded bits for a payload (CRC appended, register flushed with zeros).
pub fn encode(payload: u64) -> [u8; CODED_BITS] {
    let mut coded = [0u8; CODED_BITS];
    let mut state = 0;
    let info = info_bits(payload);
    for (i, &bit) in info.iter().chain([0u8; MEMORY].iter()).enumerate() {
        let [a, b] = outputs(state, bit);
        coded[2 * i] = a;
        coded[2 * i + 1] = b;
        state = next_state(state, bit);
    }
    coded
}

/// Paths kept per state by the list decoder. The CRC then picks among them, which wins about a
/// decibel over keeping only the best; every path tried is a chance for noise to pass the CRC,
/// counted in the false-positive bound (`lib.rs`).
pub const LIST: usize = 16;

/// The most likely payload whose CRC holds among the `LIST` best paths for soft values (positive
/// reads as 1), best first; None when none of them holds.
pub fn decode(soft: &[f32; CODED_BITS]) -> Option<u64> {
    let steps = INFO_BITS + MEMORY;
    // Each state's best paths, best first: their metrics, and where each came from (the
    // previous state and that state's rank) for the traceback.
    let mut metric = [[f32::NEG_INFINITY; LIST]; STATES];
    metric[0][0] = 0.0;
    let mut from = vec![[[(0u8, 0u8); LIST]; STATES]; steps];
    for (t, choice) in from.iter_mut().enumerate() {
        let mut next = [[f32::NEG_INFINITY; LIST]; STATES];
        for (to, (best, came)) in next.iter_mut().zip(choice.iter_mut()).enumerate() {
            let bit = (to >> (MEMORY - 1)) as u8;
            if t >= INFO_BITS && bit == 1 {
                continue;
            }
            // The two states that lead here, each with its ranked paths: merged, best first.
            let mut heads = [0usize; 2];
            let preds = [
                (to & (STATES / 2 - 1)) << 1,
                ((to & (STATES / 2 - 1)) << 1) | 1,
            ];
            let gains = preds.map(|p| {
                let [a, b] = outputs(p, bit);
                signed(a) * soft[2 * t] + signed(b) * soft[2 * t + 1]
            });
            for (slot, origin) in best.iter_mut().zip(came.iter_mut()) {
                let value = |k: usize| {
                    metric[preds[k]]
                        .get(heads[k])
                        .map_or(f32::NEG_INFINITY, |m| m + gains[k])
                };
                let k = usize::from(value(1) > value(0));
                let v = value(k);
                if v == f32::NEG_INFINITY {
                    break;
                }
                *slot = v;
                *origin = (preds[k] as u8, heads[k] as u8);
                heads[k] += 1;
            }
        }
        metric = next;
    }
    // Trace every surviving path back from the all-zero state the tail forces.
    (0..LIST)
        .take_while(|&rank| metric[0][rank] > f32::NEG_INFINITY)
        .find_map(|rank| {
            let (mut state, mut rank) = (0usize, rank);
            let mut payload = 0u64;
            let mut crc = 0u32;
            for t in (0..steps).rev() {
                let bit = (state >> (MEMORY - 1)) as u64 & 1;
                if t < PAYLOAD_BITS {
                    payload |= bit << t;
                } else if t < INFO_BITS {
                    crc |= (bit as u32) << (t - PAYLOAD_BITS);
                }
                let (s, r) = from[t][state][rank];
                (state, rank) = (s as usize, r as usize);
            }
            (crc == crc32(payload)).then_some(payload)
        })
}

fn signed(bit: u8) -> f32 {
    if bit == 1 { 1.0 } else { -1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soft(coded: &[u8; CODED_BITS]) -> [f32; CODED_BITS] {
        coded.map(signed)
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        // The CRC-32 of "123456789" is 0xCBF43926.
        assert_eq!(crc32_bytes(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn decodes_clean_and_corrects_errors() {
        for payload in [0u64, 1, 0xDEAD_BEEF_0123_4567, u64::MAX] {
            let coded = encode(payload);
            assert_eq!(decode(&soft(&coded)), Some(payload));
            // Flip every 9th coded bit: 22 errors spread out are within the code's reach.
            let mut noisy = soft(&coded);
            for v in noisy.iter_mut().step_by(9) {
                *v = -*v;
            }
            assert_eq!(decode(&noisy), Some(payload), "{payload:x}");
        }
    }

    #[test]
    fn noise_rarely_passes_the_crc() {
        let mut seed = 7u64;
        let mut passed = 0;
        for _ in 0..2000 {
            let mut noise = [0f32; CODED_BITS];
            for v in noise.iter_mut() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *v = (seed >> 33) as f32 / (1u64 << 31) as f32 - 0.5;
            }
            passed += usize::from(decode(&noise).is_some());
        }
        assert_eq!(passed, 0);
    }
}
