"""Speech: decoding audio, finding speech, transcribing it, telling speakers apart, and speaking answers.

Pure functions over numpy arrays (16 kHz mono float32) wherever possible, so the upload pipeline,
the live audio engine and the benchmark share one implementation. Nothing here touches the database.
"""

SAMPLE_RATE = 16000
