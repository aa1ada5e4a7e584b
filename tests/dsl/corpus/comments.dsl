# comments and blank lines

	# indented comment
(  g  # inline
 * m )  # end
