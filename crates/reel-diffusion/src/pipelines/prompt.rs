//! Prompts into text states, as diffusers' Wan pipelines make them: the prompt cleaned (HTML
//! entities decoded twice, runs of white space made one space), tokenised with the folder's
//! tokenizer (its end-of-sequence token added, cut to the text length), encoded by umT5, and
//! the states of the real tokens followed by zeros up to the text length.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use tokenizers::{Tokenizer, TruncationParams};

use crate::error::{DiffusionError, Result};
use crate::models::umt5::Umt5Encoder;

/// diffusers' default `max_sequence_length` for Wan.
pub const TEXT_LENGTH: usize = 512;

pub struct PromptEncoder {
    tokenizer: Tokenizer,
    encoder: Umt5Encoder,
    length: usize,
}

impl PromptEncoder {
    /// The tokenizer in `tokenizer_folder/tokenizer.json` and the encoder in `encoder_folder`.
    pub fn load(
        tokenizer_folder: &Path,
        encoder_folder: &Path,
        device: &Device,
        dtype: DType,
        length: usize,
    ) -> Result<Self> {
        let path = tokenizer_folder.join("tokenizer.json");
        if !path.is_file() {
            return Err(DiffusionError::model(tokenizer_folder, "no tokenizer.json"));
        }
        let mut tokenizer = Tokenizer::from_file(&path)
            .map_err(|e| DiffusionError::model(&path, format!("not a tokenizer: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: length,
                ..Default::default()
            }))
            .map_err(|e| DiffusionError::model(&path, e.to_string()))?;
        tokenizer.with_padding(None);
        let encoder = Umt5Encoder::load(encoder_folder, device, dtype)?;
        Ok(PromptEncoder {
            tokenizer,
            encoder,
            length,
        })
    }

    /// The token ids of `prompt` after cleaning, the end-of-sequence token included.
    pub fn tokens(&self, prompt: &str) -> Result<Vec<u32>> {
        let encoding = self
            .tokenizer
            .encode(clean(prompt), true)
            .map_err(|e| DiffusionError::Usage(format!("cannot tokenise the prompt: {e}")))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The text states (1, length, d_model) of `prompt`, in f32.
    pub fn encode(&self, prompt: &str) -> Result<Tensor> {
        let ids = self.tokens(prompt)?;
        let dim = self.encoder.config().d_model;
        let states = if ids.is_empty() {
            None
        } else {
            Some(self.encoder.encode(&ids)?)
        };
        let device = self.encoder_device();
        let padded = match states {
            Some(states) if ids.len() < self.length => Tensor::cat(
                &[
                    states,
                    Tensor::zeros((self.length - ids.len(), dim), DType::F32, &device)?,
                ],
                0,
            )?,
            Some(states) => states,
            None => Tensor::zeros((self.length, dim), DType::F32, &device)?,
        };
        Ok(padded.unsqueeze(0)?)
    }

    fn encoder_device(&self) -> Device {
        self.encoder.device().clone()
    }
}

/// diffusers' `prompt_clean`: HTML entities decoded twice, white space collapsed and trimmed.
/// Of `ftfy.fix_text`, which diffusers runs first when ftfy is installed, the parts that change
/// ordinary prompts are done: curly quotes straightened, control characters dropped. (Its
/// mojibake repair is not.)
pub fn clean(text: &str) -> String {
    let text: String = unescape(&unescape(text))
        .chars()
        .filter_map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{02bc}' => Some('\''),
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' => Some('"'),
            c if c.is_whitespace() => Some(c),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Decodes numeric character references and the common named HTML entities.
fn unescape(text: &str) -> String {
    const NAMED: &[(&str, &str)] = &[
        ("amp", "&"),
        ("lt", "<"),
        ("gt", ">"),
        ("quot", "\""),
        ("apos", "'"),
        ("nbsp", "\u{a0}"),
        ("copy", "©"),
        ("reg", "®"),
        ("trade", "™"),
        ("hellip", "…"),
        ("mdash", "—"),
        ("ndash", "–"),
        ("lsquo", "‘"),
        ("rsquo", "’"),
        ("ldquo", "“"),
        ("rdquo", "”"),
        ("laquo", "«"),
        ("raquo", "»"),
        ("deg", "°"),
        ("middot", "·"),
        ("times", "×"),
        ("eacute", "é"),
        ("egrave", "è"),
        ("agrave", "à"),
        ("uuml", "ü"),
        ("ouml", "ö"),
        ("auml", "ä"),
        ("szlig", "ß"),
        ("ccedil", "ç"),
        ("ntilde", "ñ"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let end = tail.find(';').filter(|&e| e > 0 && e <= 32);
        let decoded = end.and_then(|e| {
            let name = &tail[..e];
            let ch = if let Some(num) = name.strip_prefix('#') {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse::<u32>().ok(),
                }?;
                char::from_u32(code)
                    .filter(|&c| c != '\0')
                    .unwrap_or('\u{fffd}')
                    .to_string()
            } else {
                NAMED.iter().find(|(n, _)| *n == name)?.1.to_string()
            };
            Some((ch, e))
        });
        match decoded {
            Some((ch, e)) => {
                out.push_str(&ch);
                rest = &tail[e + 1..];
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn cleans_as_the_reference_does() {
        assert_eq!(
            clean("  a   cat\t\n on &amp;amp; a mat &#233;&#x4E2D;  "),
            "a cat on & a mat é中"
        );
        assert_eq!(
            clean("fish &chips; &unknown; &"),
            "fish &chips; &unknown; &"
        );
        assert_eq!(clean(""), "");
        assert_eq!(
            clean("the dog\u{2019}s \u{201c}ball\u{201d}\u{7}"),
            "the dog's \"ball\""
        );
    }
}
