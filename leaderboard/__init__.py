"""The leaderboard: submitted budgets (TOML), scored by one fixed protocol into entries
(one JSON file each), ranked into tables rendered from those files. See README.md."""
