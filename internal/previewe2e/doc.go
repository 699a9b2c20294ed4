// Package previewe2e holds the end-to-end test of the preview window under Xvfb: it builds
// scope and scope-preview, runs them as a user would and checks screenshots. It lives apart
// from cmd/scope-preview because a test binary that links Ebitengine panics without a display.
package previewe2e
