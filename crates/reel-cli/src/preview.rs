//! Drawing analysed faces over a frame.

use reel_face::Face;
use reel_face::mesh::outline;
use reel_image::{Canvas, GLYPH_HEIGHT, Image, Point};

const MESH: [u8; 3] = [64, 255, 96];
const OUTLINE: [u8; 3] = [255, 255, 255];
const BOX: [u8; 3] = [255, 200, 0];

pub fn draw_faces(image: &mut Image, faces: &[Face]) {
    let mut canvas = Canvas { image };
    for face in faces {
        let lm = &face.landmarks;
        for part in [
            outline::FACE_OVAL,
            outline::LEFT_EYE,
            outline::RIGHT_EYE,
            outline::LEFT_BROW,
            outline::RIGHT_BROW,
            outline::LIPS,
        ] {
            let pts: Vec<Point> = part.iter().map(|&i| lm[i].point()).collect();
            canvas.polygon(&pts, OUTLINE);
        }
        for l in lm {
            canvas.dot(l.point(), 0, MESH);
        }
        let [x, y, w, h] = face.bbox;
        canvas.polygon(
            &[
                Point::new(x, y),
                Point::new(x + w, y),
                Point::new(x + w, y + h),
                Point::new(x, y + h),
            ],
            BOX,
        );
        let scale = ((w / 60.0).round() as isize).clamp(1, 6);
        let label = format!("#{}", face.id);
        let top = y as isize - (GLYPH_HEIGHT as isize + 2) * scale;
        canvas.text(x as isize, top.max(0), &label, scale, BOX);
    }
}
