"""Understanding and answering a question: cues, the n-gram index, the matcher, the dialogue and rendering."""
