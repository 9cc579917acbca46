//go:build !linux

package main

import "github.com/shoalstream/shoal/internal/config"

// applyHugePages does nothing off Linux: transparent huge pages, and
// advice for them, are Linux's.
func applyHugePages(config.Config, func(string) (string, bool)) string {
	return "unavailable (not Linux)"
}
