module example.com/invert-go

go 1.22

require github.com/scopenative/scope/sdk/go v0.0.0-00010101000000-000000000000

replace github.com/scopenative/scope/sdk/go => ../../../sdk/go
