"""Planners' own data in: ledger (台账) files read, placed on the map and checked against a
layer before anything is written.

`read` turns a file (Excel, CSV in any Chinese encoding, zipped Shapefile, GeoPackage,
GeoJSON) into a `Table` of raw rows with the row numbers a person sees; `coords` finds the
coordinates in it and brings them to WGS84 lon/lat (CGCS2000 ≈ WGS84; GCJ-02 and BD-09
converted; Gauss-Krüger zones detected); `plan` checks every row against the layer's fields
and says, per row, what an import would add, change or reject.
"""
