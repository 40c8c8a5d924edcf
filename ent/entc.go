//go:build ignore

// entc.go runs ent's code generator with the features the data layer relies
// on (docs/design.md section 10). Run it through `go generate ./...`.
package main

import (
	"log"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureIntercept,
			gen.FeatureNamedEdges,
			gen.FeatureUpsert,
			gen.FeatureLock,
			gen.FeatureModifier,
			gen.FeatureVersionedMigration,
		},
	},
		// Scopegate's template overrides (see each file's header).
		entc.TemplateDir("./template"),
	)
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
