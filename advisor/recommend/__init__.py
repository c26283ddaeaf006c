# TEMPORARY STUB (lead engineer) so Django can start while the engine is being written; replace freely.
TASKS = ("chat","customer_support","summarization","extraction","classification","translation","code","creative_writing","reasoning","research")
QUALITIES = ("good_enough","high","best"); LATENCIES = ("realtime","interactive","batch")
TARGETS = ("phone","edge","laptop","workstation","server","cloud"); PRIVACIES = ("public","internal","confidential","regulated")
Hardware = Needs = ModelSpec = recommend = memory = None
