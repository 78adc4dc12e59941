"""Notes of MIDI files as pretty_midi reads them, for reel's MIDI reader test.

    python tools/reference/midi_reference.py OUT.json FILE.mid [FILE.mid ...]

Needs pretty_midi (0.2.11). Stores, per file name, the number of notes (drums left out), the
end of the last note, and every 5th note as [start, end, pitch, velocity], sorted by start then
pitch.
"""

import json
import pathlib
import sys

import pretty_midi


def main() -> None:
    out = {}
    for path in sys.argv[2:]:
        midi = pretty_midi.PrettyMIDI(path)
        notes = [
            [round(n.start, 6), round(n.end, 6), n.pitch, n.velocity]
            for inst in midi.instruments
            if not inst.is_drum
            for n in inst.notes
        ]
        notes.sort(key=lambda n: (n[0], n[2]))
        out[pathlib.Path(path).name] = {
            "count": len(notes),
            "end": max(n[1] for n in notes),
            "every": 5,
            "notes": notes[::5],
        }
    pathlib.Path(sys.argv[1]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
