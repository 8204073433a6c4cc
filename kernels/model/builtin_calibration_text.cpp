// Built-in English text for the synthetic model's calibration and evaluation.
#include "kernels/model/synthetic_model.hpp"

namespace dcomp::model {

const std::string& builtin_calibration_text() {
  static const std::string text = R"TEXT(The river that runs past the old mill town is wide and slow in summer. Children
wade in the shallows near the stone bridge, and the miller's dog swims after sticks until the sun goes
down. In spring the water rises, turns brown with mud from the hills, and the town council argues again
about building a higher wall along the bank. Nobody remembers when the wall was first built, but every
family has a story about the year the water came into the square.

The baker opens her shop at five in the morning. By six there is a line of people waiting for bread, and
by seven most of the rye loaves are gone. She says the secret is the starter her grandmother kept alive
for forty years, fed every evening with flour and warm water. Her son wants to sell the bread in the city,
but she thinks bread should be eaten where it is baked, while it is still warm.

On the hill above the town stands a small observatory. An old teacher built it with his students, one
brick at a time, during the long winter holidays. The telescope is not large, yet on clear nights it
shows the rings of Saturn and the moons of Jupiter, tiny points of light that move from one night to the
next. The teacher keeps a notebook of every observation, written in pencil, with the date, the time and
the temperature of the air.

Trains stop at the station twice a day. The morning train carries workers to the factories down the
valley, and the evening train brings them home, tired and hungry, with newspapers folded under their
arms. The station master has worked there for thirty years. He knows every passenger by name and keeps a
box of lost umbrellas that nobody ever collects.

In autumn the forest turns red and gold. People walk the paths on Sunday afternoons, collecting
mushrooms and chestnuts, and the smell of wood smoke drifts over the roofs. The school organizes a
festival with music, games and a long table of food, and everyone brings something: soup, apples, honey
cakes, cheese from the farms on the other side of the river.

Winter is quiet. Snow covers the fields, the river freezes at the edges, and the mill stops turning. The
library becomes the warmest place in town, and the librarian lights the stove early so that the readers
will not have to keep their coats on. Students come after school to do their homework, and old men play
chess by the window until it is too dark to see the board.

A good measurement begins with a clear question. Before anyone counts or weighs anything, it helps to
write down what is being asked, what would count as an answer, and what could make the answer wrong. A
scale must be checked against a known weight, a clock against a known signal, and a ruler against a
standard length. Only then can two people in different places compare their numbers and trust them.

Machines that learn from data are measured in the same careful way. A model is trained on one part of
the data and tested on another part that it has never seen. If the test data leaks into training, the
numbers look better than they are. Engineers therefore keep the test set locked away and report how the
model behaves on it only at the end, together with the method, the settings and the size of the errors.

Compression makes a large model smaller so that it runs on cheaper machines. Each weight is stored with
fewer bits, and the lost precision shows up as a small change in the model's answers. A careful method
looks at the inputs each layer actually receives and chooses the rounding so that the layer's outputs
change as little as possible. The result is checked by measuring how well the smaller model predicts
text it has not seen before.
)TEXT";
  return text;
}

}  // namespace dcomp::model
