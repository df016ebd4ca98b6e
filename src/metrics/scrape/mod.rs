//! Scraping pods through the API server proxy, and direct URLs.
