print("JournalBench: not written yet")
