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

/// The most likely payload for soft values (positive reads as 1), and whether its CRC holds.
pub fn decode(soft: &[f32; CODED_BITS]) -> (u64, bool) {
    let steps = INFO_BITS + MEMORY;
    let mut metric = [f32::NEG_INFINITY; STATES];
    metric[0] = 0.0;
    let mut from = vec![[0u8; STATES]; steps];
    for (t, choice) in from.iter_mut().enumerate() {
        let mut next = [f32::NEG_INFINITY; STATES];
        let inputs: &[u8] = if t < INFO_BITS { &[0, 1] } else { &[0] };
        for (state, &m) in metric.iter().enumerate() {
            if m == f32::NEG_INFINITY {
                continue;
            }
            for &bit in inputs {
                let [a, b] = outputs(state, bit);
                let gain = signed(a) * soft[2 * t] + signed(b) * soft[2 * t + 1];
                let to = next_state(state, bit);
                if m + gain > next[to] {
                    next[to] = m + gain;
                    choice[to] = state as u8;
                }
            }
        }
        metric = next;
    }
    // Trace back from the all-zero state the tail forces.
    let mut state = 0usize;
    let mut info = [0u8; INFO_BITS + MEMORY];
    for t in (0..steps).rev() {
        info[t] = (state >> (MEMORY - 1)) as u8 & 1;
        state = from[t][state] as usize;
    }
    let mut payload = 0u64;
    let mut crc = 0u32;
    for (i, &bit) in info[..INFO_BITS].iter().enumerate() {
        if i < PAYLOAD_BITS {
            payload |= u64::from(bit) << i;
        } else {
            crc |= u32::from(bit) << (i - PAYLOAD_BITS);
        }
    }
    (payload, crc == crc32(payload))
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
            assert_eq!(decode(&soft(&coded)), (payload, true));
            // Flip every 9th coded bit: 22 errors spread out are within the code's reach.
            let mut noisy = soft(&coded);
            for v in noisy.iter_mut().step_by(9) {
                *v = -*v;
            }
            assert_eq!(decode(&noisy), (payload, true), "{payload:x}");
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
            passed += usize::from(decode(&noise).1);
        }
        assert_eq!(passed, 0);
    }
}
