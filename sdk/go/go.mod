module github.com/scopenative/scope/sdk/go

go 1.22
