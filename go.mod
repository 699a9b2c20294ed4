module github.com/scopenative/scope

go 1.26.8

require (
	github.com/ebitengine/purego v0.11.3
	github.com/urfave/cli/v3 v3.14.0
)
