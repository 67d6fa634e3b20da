"""What a gpt-service process does besides answering requests, run by a servicekit.Lifecycle
(wiring.background): only a start-up report of the model's state; summaries need no thread of their own."""
