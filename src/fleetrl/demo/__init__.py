"""What `make demo` shows: a simulated robot learning a task, and a scripted tour of the robots."""
