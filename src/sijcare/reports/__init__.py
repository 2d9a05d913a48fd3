"""Ways to show an assessment to people: text reports now, documents later."""
