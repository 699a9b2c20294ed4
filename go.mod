module github.com/scopenative/scope

go 1.26.8
