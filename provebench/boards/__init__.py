"""Submissions and leaderboards: bundles, boards, adding entries, re-verification, pages and charts."""
